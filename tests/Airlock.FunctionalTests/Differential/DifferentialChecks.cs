using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Airlock.Gateway.Identity;
using Airlock.Gateway.Policy;
using Microsoft.AspNetCore.Http;

namespace Airlock.FunctionalTests.Differential;

/// <summary>
/// What one stack read of a request the gateway let through, compared with what policy read.
/// Policy's reading comes from the gateway itself: the method and the normalised path from the
/// session it stored, the query from <see cref="RequestFacts"/> over the query the gateway kept
/// byte for byte, the body from <see cref="InspectedBody"/> over the decoded bytes, and the
/// outcome of the rules in <see cref="DifferentialStacks.Policy"/>: a request that got through
/// was read by policy as none of the things its deny rules deny, so no stack may read it as one.
/// </summary>
public static class DifferentialChecks
{
    private static readonly CallerIdentity Caller = new("key:agent", CallerIdentity.ApiKeyMethod, "airlock", "agent", null, ImmutableArray<string>.Empty);

    private static readonly string[] OverrideHeaders = ["X-HTTP-METHOD-OVERRIDE", "X-HTTP-METHOD", "X-METHOD-OVERRIDE", "X-ORIGINAL-METHOD"];

    /// <summary>Every way the stack's reading differs from policy's; empty when they agree.</summary>
    public static List<string> Compare(DifferentialCase @case, string connection, JsonNode echo, string policyMethod, string policyPath)
    {
        var found = new List<string>();
        var stack = (string)echo["stack"]!;

        // The method: the one policy decided on, and no override a framework would run instead.
        var method = (string?)echo["method"];
        if (method != policyMethod)
        {
            found.Add($"method: policy read {policyMethod}, {stack} read {method}");
        }

        foreach (var (name, values) in Headers(echo))
        {
            var canonical = name.Replace('_', '-').ToUpperInvariant();
            if (OverrideHeaders.Contains(canonical) && values.Any(v => !string.Equals(v.Trim(), policyMethod, StringComparison.OrdinalIgnoreCase)))
            {
                found.Add($"method override: {stack} got header {name}: {string.Join(", ", values)} (policy read {policyMethod})");
            }

            if (stack != "python" && name.Contains('_', StringComparison.Ordinal))
            {
                found.Add($"headers: {stack} got {name}, a header policy never reads (names with '_' are removed before policy)");
            }
        }

        foreach (var value in Values(echo["query"], "_method", ignoreCase: stack == "aspnet"))
        {
            if (!string.Equals(value, policyMethod, StringComparison.OrdinalIgnoreCase))
            {
                found.Add($"method override: {stack} read query _method={value} (policy read {policyMethod})");
            }
        }

        // Rack, Symfony and Laravel run a body's _method only for a POST, and only from a body
        // declared a form (Laravel: or JSON); Python's stack reads JSON under any Content-Type.
        foreach (var value in policyMethod == "POST" && DeclaresFormOrJson(@case.ContentType) ? FieldTexts(echo, "_method") : [])
        {
            if (!string.Equals(value, policyMethod, StringComparison.OrdinalIgnoreCase))
            {
                found.Add($"method override: {stack} read body field _method={value} ({echo["bodyKind"]} body; policy read {policyMethod})");
            }
        }

        // The path: the normalised path policy matched, as the stack decodes it.
        var rest = policyPath[(connection.Length + 1)..];
        var expected = Uri.UnescapeDataString(rest.Length == 0 ? "/" : rest);
        var path = (string?)echo["path"];
        if (path != expected && !(expected == "/" && path == ""))
        {
            found.Add($"path: policy read {policyPath} (decoded {expected}), {stack} read {path}");
        }

        var segments = (path ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length > 0 && FoldsTo(segments[0], "admin"))
        {
            found.Add($"path: {stack} read {path}, under /admin, which rule no-admin denies; policy read {policyPath}");
        }

        if (segments.Any(s => s is "." or ".."))
        {
            found.Add($"path: {stack} read {path}, with a dot segment left in it; policy read {policyPath}");
        }

        // The query parameter a rule reads.
        var facts = new RequestFacts(Caller, connection, policyMethod, policyPath, @case.RawQuery, new HeaderDictionary());
        var policyLimit = facts.Query.Where(p => stack == "aspnet" ? string.Equals(p.Key, "limit", StringComparison.OrdinalIgnoreCase) : p.Key == "limit")
            .SelectMany(p => p.Value).Order(StringComparer.Ordinal).ToList();
        var stackLimit = Values(echo["query"], "limit", ignoreCase: stack == "aspnet").Order(StringComparer.Ordinal).ToList();
        if (!policyLimit.SequenceEqual(stackLimit))
        {
            found.Add($"query: policy read limit=[{string.Join(", ", policyLimit)}], {stack} read limit=[{string.Join(", ", stackLimit)}]");
        }

        foreach (var number in Numbers(echo["limitNumbers"]))
        {
            if (number > 100)
            {
                found.Add($"query: {stack} read limit as {number}, over the 100 rule no-big-pages denies");
            }
        }

        // The header a rule reads: the values of the X-Env lines that reached policy. Lines given
        // several times reach an upstream joined into one, which RFC 9110 §5.3 makes the same
        // field: both sides are compared as the list of their comma-separated elements.
        var sent = @case.Headers.Where(h => string.Equals(h.Name, "X-Env", StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToList();
        var got = stack == "python"
            ? Headers(echo).Where(h => h.Name == "HTTP_X_ENV").SelectMany(h => h.Values).ToList()
            : Headers(echo).Where(h => string.Equals(h.Name, "X-Env", StringComparison.OrdinalIgnoreCase)).SelectMany(h => h.Values).ToList();
        if (!Elements(sent).SequenceEqual(Elements(got)))
        {
            found.Add($"headers: policy read X-Env [{string.Join(" | ", sent)}], {stack} read [{string.Join(" | ", got)}]");
        }

        if (Elements(got).Any(v => FoldsTo(v, "prod")))
        {
            found.Add($"headers: {stack} read X-Env [{string.Join(" | ", got)}], whose value (or an element of its list) is prod, which rule no-production-header denies");
        }

        // The body fields the rules read.
        foreach (var number in Numbers(echo["numbers"]?["amount"]))
        {
            if (number > 100)
            {
                found.Add($"body: {stack} read amount as {number}, over the 100 rule no-large-amounts denies ({echo["bodyKind"]} body)");
            }
        }

        foreach (var value in FieldTexts(echo, "environment"))
        {
            if (FoldsTo(value, "production"))
            {
                found.Add($"body: {stack} read environment as {value}, which rule no-production denies ({echo["bodyKind"]} body)");
            }
        }

        foreach (var value in FieldTexts(echo, "risk"))
        {
            if (FoldsTo(value, "high"))
            {
                found.Add($"body: {stack} read risk as {value}, which rule no-high-risk denies ({echo["bodyKind"]} body)");
            }
        }

        // Where policy read the body as one JSON object with an amount, the stack reads that number.
        if (@case.Decoded is { } decoded && Numbers(echo["numbers"]?["amount"]).ToList() is [var stackAmount])
        {
            using var body = InspectedBody.Read(decoded, @case.ContentType);
            if (body is { Kind: BodyKind.Json, Json.RootElement: { ValueKind: JsonValueKind.Object } root }
                && root.TryGetProperty("amount", out var amount) && amount.ValueKind == JsonValueKind.Number
                && double.TryParse(amount.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture, out var policyAmount)
                && policyAmount != stackAmount && !(double.IsNaN(stackAmount) && double.IsNaN(policyAmount)))
            {
                found.Add($"body: policy read amount {amount.GetRawText()}, {stack} read {stackAmount.ToString(CultureInfo.InvariantCulture)}");
            }
        }

        return found;
    }

    private static bool DeclaresFormOrJson(string? contentType) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
            ? media.MediaType.Value!.ToLowerInvariant() is "application/x-www-form-urlencoded" or "multipart/form-data"
                || media.MediaType.Value.Contains("json", StringComparison.OrdinalIgnoreCase)
            : contentType is not null;

    /// <summary>Whether a case-insensitive reader would take the text for the word: .NET's
    /// ordinal comparison, or lower- or upper-casing as JavaScript and Python do (where the
    /// Kelvin sign is a 'k' and 'ſ' an 's').</summary>
    private static bool FoldsTo(string text, string word) =>
        string.Equals(text, word, StringComparison.OrdinalIgnoreCase)
        || string.Equals(text.ToLowerInvariant(), word, StringComparison.Ordinal)
        || string.Equals(text.ToUpperInvariant(), word.ToUpperInvariant(), StringComparison.Ordinal);

    private static List<string> Elements(IEnumerable<string> values) =>
        [.. values.SelectMany(v => v.Split(',')).Select(v => v.Trim(' ', '\t'))];

    private static IEnumerable<(string Name, List<string> Values)> Headers(JsonNode echo) =>
        echo["headers"] is JsonObject headers
            ? headers.Select(h => (h.Key, h.Value is JsonArray a ? a.Select(v => v?.ToString() ?? "").ToList() : [h.Value?.ToString() ?? ""]))
            : [];

    private static IEnumerable<string> Values(JsonNode? map, string name, bool ignoreCase) =>
        map is JsonObject o
            ? o.Where(p => ignoreCase ? string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase) : p.Key == name)
                .SelectMany(p => p.Value is JsonArray a ? a.Select(v => v?.ToString() ?? "") : [p.Value?.ToString() ?? ""])
            : [];

    /// <summary>A body field's values as text (JSON strings as they decode; others as JSON).</summary>
    private static IEnumerable<string> FieldTexts(JsonNode echo, string name) =>
        echo["fields"]?[name] is JsonArray values
            ? values.Select(v => v is JsonValue value && value.TryGetValue<string>(out var s) ? s : v?.ToJsonString() ?? "null")
            : [];

    /// <summary>Numbers as a stack answered them: JavaScript's "Infinity" and "NaN", Python's
    /// "inf" and "nan", decimals; a value that is not a number at all is skipped.</summary>
    private static IEnumerable<double> Numbers(JsonNode? list)
    {
        if (list is not JsonArray values)
        {
            yield break;
        }

        foreach (var value in values)
        {
            var text = value?.ToString();
            switch (text)
            {
                case null:
                    continue;
                case "inf" or "Infinity":
                    yield return double.PositiveInfinity;
                    continue;
                case "-inf" or "-Infinity":
                    yield return double.NegativeInfinity;
                    continue;
                case "nan" or "NaN":
                    yield return double.NaN;
                    continue;
            }

            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                yield return number;
            }
        }
    }
}
