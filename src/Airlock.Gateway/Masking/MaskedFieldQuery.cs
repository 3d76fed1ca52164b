using System.Text.Json;
using Airlock.Gateway.Detection;
using Airlock.Gateway.Policy;

namespace Airlock.Gateway.Masking;

/// <summary>Where a request asks about a masked value, and which one.</summary>
/// <param name="Where">What of the request: <c>parameter</c>, <c>field</c> (of the body) or <c>path</c>.</param>
/// <param name="Name">The parameter or field name as the caller wrote it; the path segment's position.</param>
/// <param name="Masked">The masked field's name, or the detector that found the value.</param>
/// <param name="ByValue">True when a detector found the value, false when the name refers to a field.</param>
public sealed record MaskedFieldHit(string Where, string Name, string Masked, bool ByValue);

/// <summary>
/// Finds where a request asks about a value the connection masks: an upstream's search and
/// filter parameters turn the presence of an answer into an oracle (<c>?ssn_like=^1</c>, then
/// <c>^12</c>…), which masking the answer cannot close.
/// <list type="bullet">
/// <item>A query parameter or JSON/form body field <b>name refers to a masked field</b> when the
/// field's name (the last name of a masking field path: <c>ssn</c> for <c>$..ssn</c>) occurs in it,
/// compared without case, between word boundaries: the start or end of the name, any character
/// that is not a letter or digit, or a lower-case letter followed by an upper-case one. So
/// <c>ssn</c>, <c>SSN</c>, <c>ssn_like</c>, <c>ssn[gte]</c>, <c>filter[ssn]</c>,
/// <c>customer.ssn</c>, <c>customer__ssn__startswith</c>, <c>customerSsn</c> and <c>ssnLike</c>
/// refer to <c>ssn</c>; <c>ssnx</c> and <c>lessn</c> do not.</item>
/// <item>A query value, or a path segment, that one of the masking detectors finds (a full SSN,
/// a card number) looks the value up.</item>
/// </list>
/// </summary>
public static class MaskedFieldQuery
{
    public static MaskedFieldHit? Find(MaskingPlan plan, RequestFacts facts, string? upstreamPath)
    {
        if (InQuery(plan, facts.Query) is { } hit)
        {
            return hit;
        }

        // A server that also splits on ';' reads other parameters out of the same query.
        if (facts.RawQuery?.Contains(';', StringComparison.Ordinal) == true && InQuery(plan, facts.QueryWithSemicolons) is { } other)
        {
            return other;
        }

        return InPath(plan, upstreamPath) ?? (facts.Body is { } body ? InBody(plan, body, facts.Headers.ContentType.ToString()) : null);
    }

    private static MaskedFieldHit? InQuery(MaskingPlan plan, IReadOnlyDictionary<string, List<string>> parameters)
    {
        foreach (var (name, values) in parameters)
        {
            if (FieldNamed(plan, name) is { } field)
            {
                return new("parameter", name, field, false);
            }

            foreach (var value in values)
            {
                if (DetectorFinding(plan, value) is { } detector)
                {
                    return new("parameter", name, detector, true);
                }
            }
        }

        return null;
    }

    private static MaskedFieldHit? InPath(MaskingPlan plan, string? path)
    {
        if (string.IsNullOrEmpty(path) || plan.Detectors.IsEmpty)
        {
            return null;
        }

        var segments = path.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            if (segments[i].Length > 0 && DetectorFinding(plan, Uri.UnescapeDataString(segments[i])) is { } detector)
            {
                return new("path", (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), detector, true);
            }
        }

        return null;
    }

    private static MaskedFieldHit? InBody(MaskingPlan plan, InspectedBody body, string contentType)
    {
        if (plan.FieldNames.IsEmpty || body.Kind == BodyKind.Empty)
        {
            return null;
        }

        if (contentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var name in RequestFacts.ParseForm(body.Text).Keys)
            {
                if (FieldNamed(plan, name) is { } field)
                {
                    return new("field", name, field, false);
                }
            }

            return null;
        }

        return body.Json is { } json ? InJson(plan, json.RootElement) : InLenientJson(plan, body.Content.Span);
    }

    private static MaskedFieldHit? InJson(MaskingPlan plan, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (FieldNamed(plan, property.Name) is { } field)
                    {
                        return new("field", property.Name, field, false);
                    }

                    if (InJson(plan, property.Value) is { } hit)
                    {
                        return hit;
                    }
                }

                return null;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (InJson(plan, item) is { } hit)
                    {
                        return hit;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    /// <summary>A body that is not strict JSON (a repeated key, comments) may still be JSON to a
    /// lenient upstream: its property names are read as far as a lenient reader gets.</summary>
    private static MaskedFieldHit? InLenientJson(MaskingPlan plan, ReadOnlySpan<byte> content)
    {
        var reader = new Utf8JsonReader(content, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 256 });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && FieldNamed(plan, reader.GetString()!) is { } field)
                {
                    return new("field", reader.GetString()!, field, false);
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Not JSON (from here on): no field names to read.
        }

        return null;
    }

    private static string? FieldNamed(MaskingPlan plan, string name)
    {
        foreach (var field in plan.FieldNames)
        {
            if (RefersTo(name, field))
            {
                return field;
            }
        }

        return null;
    }

    private static string? DetectorFinding(MaskingPlan plan, string value)
    {
        foreach (var rule in plan.Detectors)
        {
            if (rule.Detector.Any(value))
            {
                return rule.Detector.Name;
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="field"/> occurs in <paramref name="name"/>, without case,
    /// between word boundaries (see the type's summary).</summary>
    public static bool RefersTo(string name, string field)
    {
        for (var at = name.IndexOf(field, StringComparison.OrdinalIgnoreCase); at >= 0; at = name.IndexOf(field, at + 1, StringComparison.OrdinalIgnoreCase))
        {
            var end = at + field.Length;
            if (Boundary(name, at) && Boundary(name, end))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A word boundary between <c>name[at - 1]</c> and <c>name[at]</c>.</summary>
    private static bool Boundary(string name, int at) =>
        at == 0 || at == name.Length || !char.IsLetterOrDigit(name[at - 1]) || !char.IsLetterOrDigit(name[at])
        || (char.IsLower(name[at - 1]) && char.IsUpper(name[at]));
}
