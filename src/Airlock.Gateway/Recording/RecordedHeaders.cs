using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Recording;

/// <summary>
/// Headers and query strings as a recording keeps them: as the agent saw them, with credentials
/// withheld (the name kept, the value <c>[WITHHELD]</c>). A header's value is withheld when the
/// header carries a credential
/// <list type="bullet">
/// <item>by definition: <c>Authorization</c>, <c>Proxy-Authorization</c>, <c>Cookie</c>,
/// <c>Set-Cookie</c>, and the header the connection injects its own credential in;</item>
/// <item>or by its name (<see cref="IsSecretName"/>), unless it is one of the standard headers whose
/// names say so but whose values are not secrets (<c>Access-Control-Allow-Credentials</c>,
/// <c>Idempotency-Key</c>, <c>Sec-WebSocket-Key</c>, <c>WWW-Authenticate</c>,
/// <c>Proxy-Authenticate</c>).</item>
/// </list>
/// A query parameter's value is withheld when its name is a secret's. Any other value in a
/// secret's format is redacted (<see cref="StoredTarget"/>). The gateway's own <c>Airlock-*</c>
/// headers are kept.
/// </summary>
internal static class RecordedHeaders
{
    public const string Withheld = "[WITHHELD]";

    private static readonly FrozenSet<string> Credentials = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
        "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie");

    private static readonly FrozenSet<string> NotSecrets = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
        "Access-Control-Allow-Credentials", "Idempotency-Key", "Sec-WebSocket-Key", "WWW-Authenticate", "Proxy-Authenticate");

    /// <summary>Parts of a word that say it names a secret (<c>X-Access-Token</c>, <c>client_secret</c>, <c>X-ApiKey</c>).</summary>
    private static readonly string[] SecretStems = ["token", "secret", "passw", "passphrase", "cookie", "session", "signature", "credential", "apikey", "bearer"];

    /// <summary>Whole words that do (<c>pwd</c>, Azure's <c>sig</c>).</summary>
    private static readonly string[] SecretWords = ["pwd", "pass", "sid", "sig", "jwt"];

    /// <summary>
    /// Whether a header or parameter name says its value is a secret: one of its words (split at
    /// '-', '_' and '.') contains token, secret, passw, passphrase, cookie, session, signature,
    /// credential, apikey or bearer; starts with auth (<c>X-Auth-Token</c>, <c>Authorization</c>);
    /// ends in key (<c>X-Api-Key</c>, <c>Ocp-Apim-Subscription-Key</c>); or is pwd, pass, sid, sig or jwt.
    /// </summary>
    public static bool IsSecretName(ReadOnlySpan<char> name)
    {
        foreach (var range in name.SplitAny("-_."))
        {
            var word = name[range];
            if (word.StartsWith("auth", StringComparison.OrdinalIgnoreCase) || word.EndsWith("key", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            foreach (var stem in SecretStems)
            {
                if (word.Contains(stem, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            foreach (var secret in SecretWords)
            {
                if (word.Equals(secret, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Whether a header's value is withheld from recordings.</summary>
    /// <param name="injectedHeader">The header the connection injects its credential in, if any.</param>
    public static bool IsCredential(string name, string? injectedHeader = null) =>
        Credentials.Contains(name)
        || (injectedHeader is not null && name.Equals(injectedHeader, StringComparison.OrdinalIgnoreCase))
        || (!NotSecrets.Contains(name) && !name.StartsWith("Airlock-", StringComparison.OrdinalIgnoreCase) && IsSecretName(name));

    public static ImmutableArray<KeyValuePair<string, string>> From(IHeaderDictionary headers, string? injectedHeader = null)
    {
        var kept = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>(headers.Count);
        foreach (var (name, values) in headers)
        {
            var withheld = IsCredential(name, injectedHeader);
            foreach (var value in values)
            {
                kept.Add(new(name, withheld ? Withheld : StoredTarget.Redact(value) ?? ""));
            }
        }

        return kept.ToImmutable();
    }

    /// <summary>The query string (without '?') with secret-named parameters' values withheld.</summary>
    public static string? Query(string? query)
    {
        if (string.IsNullOrEmpty(query))
        {
            return null;
        }

        var text = query.StartsWith('?') ? query[1..] : query;
        var kept = new StringBuilder(text.Length);
        foreach (var part in text.Split('&'))
        {
            if (kept.Length > 0)
            {
                kept.Append('&');
            }

            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? part : part[..equals];
            kept.Append(equals >= 0 && IsSecretName(Uri.UnescapeDataString(name)) ? $"{name}={Uri.EscapeDataString(Withheld)}" : part);
        }

        return StoredTarget.Redact(kept.ToString());
    }

    public static string ToJson(ImmutableArray<KeyValuePair<string, string>> headers)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var (name, value) in headers)
            {
                json.WriteStartArray();
                json.WriteStringValue(name);
                json.WriteStringValue(value);
                json.WriteEndArray();
            }

            json.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static ImmutableArray<KeyValuePair<string, string>> FromJson(string json)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        return [.. document.RootElement.EnumerateArray().Select(p => new KeyValuePair<string, string>(p[0].GetString()!, p[1].GetString()!))];
    }
}
