using System.Collections.Immutable;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Recording;

/// <summary>
/// Headers and query strings as a recording keeps them: credentials never. A header that
/// carries one by definition (<c>Authorization</c>, <c>Cookie</c>, <c>Set-Cookie</c>…) or whose
/// name says it holds a secret (token, key, secret, password, session, auth) keeps its name
/// and loses its value; so does a query parameter named that way. Any other value in a
/// secret's format is redacted (<see cref="StoredTarget"/>).
/// </summary>
public static class RecordedHeaders
{
    public const string Withheld = "[WITHHELD]";

    private static readonly string[] SecretWords = ["auth", "token", "secret", "password", "passwd", "key", "session", "cookie", "signature", "credential"];

    public static bool IsSecretName(ReadOnlySpan<char> name)
    {
        foreach (var word in SecretWords)
        {
            if (name.Contains(word, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public static ImmutableArray<KeyValuePair<string, string>> From(IHeaderDictionary headers)
    {
        var kept = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>(headers.Count);
        foreach (var (name, values) in headers)
        {
            // The gateway's own session header is about the exchange, not part of it.
            foreach (var value in values)
            {
                kept.Add(new(name, IsSecretName(name) && !name.StartsWith("Airlock-", StringComparison.OrdinalIgnoreCase) ? Withheld : StoredTarget.Redact(value) ?? ""));
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
