namespace Airlock.Gateway.Audit;

/// <summary>
/// A signed statement that the chain had <see cref="Count"/> events and ended in
/// <see cref="HeadHash"/> at <see cref="At"/>. Kept outside the store, it exposes a truncated
/// tail (fewer events) and a rewritten chain (another head hash) made by anyone with database
/// access but without the signing key.
/// </summary>
/// <param name="KeyId"><c>sha256:</c> + hex SHA-256 of the signing key's public key (SubjectPublicKeyInfo, DER).</param>
/// <param name="Algorithm"><c>ES256</c>: ECDSA on P-256 with SHA-256 (.NET 10 has no Ed25519).</param>
/// <param name="Signature">base64url of the signature (IEEE P1363, r‖s) over <see cref="SignedBytes"/>.</param>
// Public: a console page model shows it (Razor components and their [Parameter]s are public).
public sealed record AuditCheckpoint(long Count, string HeadHash, DateTimeOffset At, string KeyId, string Algorithm, string Signature)
{
    public const string Type = "airlock-audit-checkpoint";

    /// <summary>What is signed: the JCS of {algorithm, at, count, headHash, keyId, type}.</summary>
    public byte[] SignedBytes() => CanonicalJson.Serialize(new CanonicalJson.Obj()
        .Add("type", Type)
        .Add("algorithm", Algorithm)
        .Add("at", AuditChain.FormatTime(At))
        .Add("count", Count)
        .Add("headHash", HeadHash)
        .Add("keyId", KeyId));

    /// <summary>The checkpoint as one canonical JSON object, signature included (export files).</summary>
    public byte[] ToJson() => CanonicalJson.Serialize(new CanonicalJson.Obj()
        .Add("type", Type)
        .Add("algorithm", Algorithm)
        .Add("at", AuditChain.FormatTime(At))
        .Add("count", Count)
        .Add("headHash", HeadHash)
        .Add("keyId", KeyId)
        .Add("signature", Signature));

    public static AuditCheckpoint Parse(string json)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        var r = document.RootElement;
        if (r.GetProperty("type").GetString() != Type)
        {
            throw new FormatException("not an Airlock audit checkpoint");
        }

        return new AuditCheckpoint(r.GetProperty("count").GetInt64(), r.GetProperty("headHash").GetString()!,
            DateTimeOffset.Parse(r.GetProperty("at").GetString()!, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal),
            r.GetProperty("keyId").GetString()!, r.GetProperty("algorithm").GetString()!, r.GetProperty("signature").GetString()!);
    }
}
