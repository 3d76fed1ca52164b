using System.Security.Cryptography;
using System.Text;

namespace Airlock.Gateway.Identity.ApiKeys;

/// <summary>
/// The shape of an agent API key: <c>alk_</c>, a 16-hex-digit public id, <c>_</c>, and 32
/// random bytes in base64url. The id finds the stored key; only a SHA-256 hash of the secret
/// part is stored. A 256-bit random secret needs no slow password hash: it cannot be guessed,
/// and SHA-256 keeps per-request verification cheap.
/// </summary>
internal static class ApiKeyFormat
{
    public const string Prefix = "alk_";
    private const int IdLength = 16;
    private const int SecretLength = 43;
    public const int Length = 4 + IdLength + 1 + SecretLength;

    /// <summary>Makes a new key. The returned text is shown once and then forgotten.</summary>
    public static (string Id, string Text, byte[] SecretHash) Generate()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdLength / 2));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        return (id, $"{Prefix}{id}_{secret}", HashSecret(secret));
    }

    /// <summary>Splits a presented key into id and secret; false when it is not key-shaped.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out string id, out ReadOnlySpan<char> secret)
    {
        id = "";
        secret = default;
        if (text.Length != Length || !text.StartsWith(Prefix, StringComparison.Ordinal) || text[4 + IdLength] != '_')
        {
            return false;
        }

        var idSpan = text.Slice(4, IdLength);
        foreach (var c in idSpan)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        id = idSpan.ToString();
        secret = text[(4 + IdLength + 1)..];
        return true;
    }

    public static byte[] HashSecret(ReadOnlySpan<char> secret)
    {
        Span<byte> utf8 = stackalloc byte[SecretLength * 3];
        var written = Encoding.UTF8.GetBytes(secret, utf8);
        return SHA256.HashData(utf8[..written]);
    }

    /// <summary>Compares in constant time, so response timing reveals nothing about the hash.</summary>
    public static bool Matches(ReadOnlySpan<char> secret, ReadOnlySpan<byte> storedHash)
    {
        Span<byte> utf8 = stackalloc byte[SecretLength * 3];
        var written = Encoding.UTF8.GetBytes(secret, utf8);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(utf8[..written], hash);
        return CryptographicOperations.FixedTimeEquals(hash, storedHash);
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
