using System.Security.Cryptography;

namespace Airlock.Gateway.Audit;

/// <summary>
/// Signs and verifies checkpoints with ECDSA P-256 / SHA-256 (ES256). .NET 10's own crypto has no
/// Ed25519, so the issue's fallback applies. Keys are PEM: the private key (PKCS#8 or SEC1) from
/// the configuration by reference, the public key (SubjectPublicKeyInfo) for verifiers.
/// </summary>
internal sealed class AuditSigner : IDisposable
{
    public const string Algorithm = "ES256";

    private readonly ECDsa _key;

    private AuditSigner(ECDsa key)
    {
        _key = key;
        KeyId = KeyIdOf(key);
    }

    public string KeyId { get; }

    /// <summary>Loads a P-256 private key from PEM; null with a reason when it is not one.</summary>
    public static AuditSigner? FromPrivatePem(string pem, out string? error)
    {
        error = null;
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            error = "not a PEM private key";
            return null;
        }

        if (key.KeySize != 256 || key.ExportParameters(false).Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            key.Dispose();
            error = "the key must be ECDSA on the P-256 curve";
            return null;
        }

        try
        {
            _ = key.ExportParameters(includePrivateParameters: true);
        }
        catch (CryptographicException)
        {
            key.Dispose();
            error = "the PEM holds a public key; checkpoints are signed with the private key";
            return null;
        }

        return new AuditSigner(key);
    }

    /// <summary>Makes a new P-256 key: (private PEM, public PEM).</summary>
    public static (string PrivatePem, string PublicPem) Generate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (key.ExportPkcs8PrivateKeyPem(), key.ExportSubjectPublicKeyInfoPem());
    }

    public string PublicPem() => _key.ExportSubjectPublicKeyInfoPem();

    public AuditCheckpoint Sign(long count, string headHash, DateTimeOffset at)
    {
        var unsigned = new AuditCheckpoint(count, headHash, AuditChain.Truncate(at), KeyId, Algorithm, "");
        var signature = _key.SignData(unsigned.SignedBytes(), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return unsigned with { Signature = Base64Url(signature) };
    }

    /// <summary>Verifies a checkpoint's signature with a public key (PEM); null when valid, else why not.</summary>
    /// <remarks>
    /// <paramref name="publicPem"/> may hold several public keys, one PEM block after another
    /// (a key ring after a rotation): the one whose key id the checkpoint names is used.
    /// </remarks>
    public static string? Verify(AuditCheckpoint checkpoint, string publicPem)
    {
        if (checkpoint.Algorithm != Algorithm)
        {
            return $"the checkpoint's algorithm {checkpoint.Algorithm} is not {Algorithm}";
        }

        var keys = PublicKeys(publicPem);
        if (keys is null)
        {
            return "the public key is not a PEM ECDSA P-256 public key";
        }

        try
        {
            var key = keys.FirstOrDefault(k => KeyIdOf(k) == checkpoint.KeyId);
            if (key is null)
            {
                return $"the checkpoint was signed by key {checkpoint.KeyId}, not by {(keys.Count == 1 ? $"this public key ({KeyIdOf(keys[0])})" : "any of these public keys")}";
            }

            byte[] signature;
            try
            {
                signature = FromBase64Url(checkpoint.Signature);
            }
            catch (FormatException)
            {
                return "the signature is not base64url";
            }

            return key.VerifyData(checkpoint.SignedBytes(), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
                ? null
                : "the signature does not match the checkpoint: it was altered or signed by another key";
        }
        finally
        {
            foreach (var key in keys)
            {
                key.Dispose();
            }
        }
    }

    /// <summary>Whether the text is one or more PEM P-256 public keys (a key ring).</summary>
    public static bool IsKeyRing(string pem)
    {
        var keys = PublicKeys(pem);
        keys?.ForEach(k => k.Dispose());
        return keys is not null;
    }

    /// <summary>Every P-256 public key in the text, or null when there is none or one is unreadable.</summary>
    private static List<ECDsa>? PublicKeys(string pem)
    {
        var keys = new List<ECDsa>();
        var rest = pem.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var block = rest[fields.Location];
            rest = rest[fields.Location.End.Value..];
            var key = ECDsa.Create();
            try
            {
                key.ImportFromPem(block);
                if (key.KeySize != 256)
                {
                    throw new CryptographicException("not P-256");
                }
            }
            catch (Exception ex) when (ex is ArgumentException or CryptographicException)
            {
                key.Dispose();
                keys.ForEach(k => k.Dispose());
                return null;
            }

            keys.Add(key);
        }

        return keys.Count == 0 ? null : keys;
    }

    private static string KeyIdOf(ECDsa key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }

    public void Dispose() => _key.Dispose();
}
