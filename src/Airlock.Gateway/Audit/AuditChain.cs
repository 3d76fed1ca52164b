using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Airlock.Gateway.Audit;

/// <summary>
/// The hash chain: how an event is put in canonical form, hashed, and linked to the one before.
/// <code>
/// hash(n) = "sha256:" + hex(SHA-256(JCS(event n without its "hash" member)))
/// event n's "prevHash" = hash(n-1); event 1's is "sha256:" + 64 zeros
/// </code>
/// Changing, removing, inserting or reordering an event breaks a link; a signed checkpoint of
/// (count, head hash) exposes a truncated tail or a rewrite of the whole chain.
/// </summary>
internal static class AuditChain
{
    public const string Genesis = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>Times are UTC with microseconds, so they survive a round trip through any store.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % 10), TimeSpan.Zero);

    public static string FormatTime(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Gives pending events their positions and hashes, after the chain's head.</summary>
    public static IReadOnlyList<(AuditEvent Event, byte[] Canonical)> Seal(IReadOnlyList<AuditEvent> pending, long headSeq, string headHash)
    {
        var sealedEvents = new List<(AuditEvent, byte[])>(pending.Count);
        var seq = headSeq;
        var prev = headHash;
        foreach (var e in pending)
        {
            var linked = e with { Seq = ++seq, At = Truncate(e.At), PrevHash = prev, Hash = "" };
            var canonical = Canonicalize(linked);
            var hash = HashOf(canonical);
            sealedEvents.Add((linked with { Hash = hash }, canonical));
            prev = hash;
        }

        return sealedEvents;
    }

    public static string HashOf(ReadOnlySpan<byte> canonical) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(canonical));

    /// <summary>The canonical bytes of an event without its hash: what its hash is over.</summary>
    public static byte[] Canonicalize(AuditEvent e) => CanonicalJson.Serialize(ToJson(e, includeHash: false));

    /// <summary>The event as one canonical JSON object, its hash included (export lines).</summary>
    public static byte[] CanonicalizeWithHash(AuditEvent e) => CanonicalJson.Serialize(ToJson(e, includeHash: true));

    private static CanonicalJson.Obj ToJson(AuditEvent e, bool includeHash)
    {
        var detail = new CanonicalJson.Obj();
        foreach (var (key, value) in e.Detail)
        {
            detail.Add(key, value);
        }

        var json = new CanonicalJson.Obj()
            .Add("seq", e.Seq)
            .Add("at", FormatTime(e.At))
            .Add("kind", e.Kind)
            .Add("actor", e.Actor is { } a
                ? new CanonicalJson.Obj().Add("subject", a.Subject).Add("groups", a.Groups.ToArray()).Add("authMethod", a.AuthMethod)
                : null)
            .Add("target", e.Target is { } t
                ? new CanonicalJson.Obj().Add("connection", t.Connection).Add("method", t.Method).Add("path", t.Path)
                : null)
            .Add("rule", e.Rule)
            .Add("policyVersion", e.PolicyVersion)
            .Add("reviewId", e.ReviewId?.ToString())
            .Add("sessionId", e.SessionId?.ToString())
            .Add("outcome", e.Outcome)
            .Add("detail", detail)
            .Add("prevHash", e.PrevHash);
        if (includeHash)
        {
            json.Add("hash", e.Hash);
        }

        return json;
    }

    /// <summary>Reads an event back from its canonical JSON (with or without its hash member).</summary>
    public static AuditEvent Parse(ReadOnlySpan<byte> json, string? hash = null)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        var root = document.RootElement;
        static string? Text(JsonElement parent, string name) =>
            parent.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        AuditActor? actor = null;
        if (root.TryGetProperty("actor", out var a) && a.ValueKind == JsonValueKind.Object)
        {
            actor = new AuditActor(Text(a, "subject") ?? "", [.. a.GetProperty("groups").EnumerateArray().Select(g => g.GetString()!)], Text(a, "authMethod") ?? "");
        }

        AuditTarget? target = null;
        if (root.TryGetProperty("target", out var t) && t.ValueKind == JsonValueKind.Object)
        {
            target = new AuditTarget(Text(t, "connection"), Text(t, "method"), Text(t, "path"));
        }

        var detail = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        if (root.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in d.EnumerateObject())
            {
                detail[p.Name] = p.Value.GetString() ?? "";
            }
        }

        return new AuditEvent
        {
            Seq = root.GetProperty("seq").GetInt64(),
            At = DateTimeOffset.Parse(root.GetProperty("at").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
            Kind = root.GetProperty("kind").GetString()!,
            Actor = actor,
            Target = target,
            Rule = Text(root, "rule"),
            PolicyVersion = Text(root, "policyVersion"),
            ReviewId = Text(root, "reviewId") is { } r ? Guid.Parse(r) : null,
            SessionId = Text(root, "sessionId") is { } s ? Guid.Parse(s) : null,
            Outcome = root.GetProperty("outcome").GetString()!,
            Detail = detail.ToImmutable(),
            PrevHash = Text(root, "prevHash") ?? "",
            Hash = hash ?? Text(root, "hash") ?? "",
        };
    }
}
