using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Airlock.Gateway.Reviews;

/// <summary>
/// The SHA-256 of a held request, as stored: connection, method, path, query, every header in
/// order and the body bytes, each written with its length so that no two requests share an
/// encoding (moving a byte from the path into the query changes the hash). An approver sees it
/// on the review page and the decision carries it back; the decision is refused when it no longer
/// names the request stored, so an approval never applies to a payload nobody was shown.
/// Written <c>sha256:&lt;hex&gt;</c>, as the policy version is.
/// </summary>
internal static class HeldRequestDigest
{
    public static string Of(HeldRequest request)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Text(hash, request.Connection);
        Text(hash, request.Method);
        Text(hash, request.Path);
        if (request.Query is null)
        {
            Number(hash, -1);
        }
        else
        {
            Text(hash, request.Query);
        }

        Number(hash, request.Headers.Length);
        foreach (var (name, value) in request.Headers)
        {
            Text(hash, name);
            Text(hash, value);
        }

        Number(hash, request.Body.Length);
        hash.AppendData(request.Body);
        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Whether a hash someone was shown names this request (letter case aside; the
    /// <c>sha256:</c> prefix may be left out).</summary>
    public static bool Matches(HeldRequest request, string shown)
    {
        var expected = Of(request);
        var given = shown.Trim();
        if (!given.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase))
        {
            given = "sha256:" + given;
        }

        return string.Equals(expected, given, StringComparison.OrdinalIgnoreCase);
    }

    private static void Text(IncrementalHash hash, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        Number(hash, bytes.Length);
        hash.AppendData(bytes);
    }

    private static void Number(IncrementalHash hash, long value)
    {
        Span<byte> buffer = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(buffer, value);
        hash.AppendData(buffer);
    }
}
