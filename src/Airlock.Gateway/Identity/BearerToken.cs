using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Identity;

/// <summary>Reads the credential from <c>Authorization: Bearer …</c> (RFC 6750 §2.1).</summary>
internal static class BearerToken
{
    /// <summary>The token, or null when there is no single Bearer authorization header.</summary>
    public static string? From(HttpRequest request)
    {
        var values = request.Headers.Authorization;
        if (values.Count != 1)
        {
            return null;
        }

        var value = values[0];
        if (value is null || value.Length <= 7 || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = value.AsSpan(7).Trim();
        return token.IsEmpty ? null : token.ToString();
    }
}
