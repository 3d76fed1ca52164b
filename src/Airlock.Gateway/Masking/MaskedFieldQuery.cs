using System.Text.Json;
using Airlock.Gateway.Detection;
using Airlock.Gateway.Policy;

namespace Airlock.Gateway.Masking;

/// <summary>Where a request asks about a masked value, and which one.</summary>
/// <param name="Where">What of the request: <c>parameter</c>, <c>field</c> (of the body) or <c>path</c>.</param>
/// <param name="Name">The parameter or field name as the caller wrote it; the path segment's position.</param>
/// <param name="Masked">The masked field's name, or the detector that found the value.</param>
/// <param name="ByValue">True when a detector found the value, false when the name refers to a field.</param>
internal sealed record MaskedFieldHit(string Where, string Name, string Masked, bool ByValue);

/// <summary>
/// Finds where a request asks about a value the connection masks: an upstream's search and
/// filter parameters turn the presence of an answer into an oracle (<c>?ssn_like=^1</c>, then
/// <c>^12</c>…), which masking the answer cannot close.
/// <list type="bullet">
/// <item>A query parameter, JSON/form body field or multipart part <b>name refers to a masked
/// field</b> (the last name of a masking field path: <c>ssn</c> for <c>$..ssn</c>) when the
/// field's name occurs in it as a run of whole words, compared on a folded form: letters and
/// digits only, without case, so that camelCase, snake_case and kebab-case spellings are one
/// (ORMs convert between them). A word starts at the start of the name, after any character that
/// is not a letter or digit, at an upper-case letter after a lower-case letter or a digit, and at
/// the last upper-case letter of a run followed by a lower-case one (<c>SSNPrefix</c> is
/// <c>SSN</c>, <c>Prefix</c>). So <c>ssn_like</c>, <c>filter[ssn]</c>, <c>customerSSNPrefix</c>
/// and <c>SSNLike</c> refer to <c>ssn</c>, <c>cardNumber_like</c> and <c>card-number</c> to
/// <c>card_number</c>; <c>ssnx</c>, <c>lessn</c>, <c>ssn2</c> and <c>cardinal</c> do not.</item>
/// <item>A <b>path segment</b> refers to a masked field only when it is the field's name
/// whole, folded the same way (<c>/customers/ssn/1*</c>): resource names such as
/// <c>/email-templates</c> are common where <c>email</c> is masked.</item>
/// <item>A query value, or a path segment, that one of the masking detectors finds (a full SSN,
/// a card number) looks the value up.</item>
/// </list>
/// </summary>
internal static class MaskedFieldQuery
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

    /// <summary>What the caller is told: where its request asks about which masked value (never the value).</summary>
    public static string Describe(MaskedFieldHit hit) => (hit.Where, hit.ByValue) switch
    {
        ("path", true) => $"segment {hit.Name} of the path is a value the connection masks ({hit.Masked}): looking it up would confirm it",
        ("path", false) => $"segment {hit.Name} of the path names the field '{hit.Masked}', which the connection masks: "
            + "looking records up by it would reveal the value through which answers come back",
        (var where, true) => $"the value of the {Part(where)} '{hit.Name}' is a value the connection masks ({hit.Masked}): looking it up would confirm it",
        (var where, false) => $"the {Part(where)} '{hit.Name}' refers to the field '{hit.Masked}', which the connection masks: "
            + "searching or filtering on it would reveal the value through which answers come back",
    } + "; this connection refuses such requests";

    private static string Part(string where) => where switch
    {
        "field" => "body field",
        "path" => "path segment",
        _ => "query parameter",
    };

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
        if (string.IsNullOrEmpty(path) || (plan.Detectors.IsEmpty && plan.FieldNames.IsEmpty))
        {
            return null;
        }

        var segments = path.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            if (segments[i].Length == 0)
            {
                continue;
            }

            var segment = Uri.UnescapeDataString(segments[i]);
            var position = (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var field in plan.FieldNames)
            {
                if (Names(segment, field))
                {
                    return new("path", position, field, false);
                }
            }

            if (DetectorFinding(plan, segment) is { } detector)
            {
                return new("path", position, detector, true);
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

        if (body.Multipart is { } multipart)
        {
            foreach (var part in multipart.Parts)
            {
                if (part.Name is { } name && FieldNamed(plan, name) is { } field)
                {
                    return new("field", name, field, false);
                }
            }

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

    /// <summary>Whether <paramref name="field"/>'s name occurs in <paramref name="name"/> as a run
    /// of whole words, compared folded (see the type's summary).</summary>
    public static bool RefersTo(string name, string field) => Match(name, field, whole: false);

    /// <summary>Whether <paramref name="segment"/> is <paramref name="field"/>'s name, folded.</summary>
    public static bool Names(string segment, string field) => Match(segment, field, whole: true);

    /// <summary>Longer names are folded on the heap rather than the stack.</summary>
    private const int StackLimit = 256;

    private static bool Match(string name, string field, bool whole)
    {
        Span<char> foldedField = field.Length <= StackLimit ? stackalloc char[field.Length] : new char[field.Length];
        foldedField = foldedField[..Fold(field, foldedField, [])];
        if (foldedField.IsEmpty)
        {
            return false;
        }

        Span<char> folded = name.Length <= StackLimit ? stackalloc char[name.Length] : new char[name.Length];
        // starts[i]: a word starts at folded[i]; starts[length]: the end of the name.
        Span<bool> starts = name.Length < StackLimit ? stackalloc bool[name.Length + 1] : new bool[name.Length + 1];
        var length = Fold(name, folded, starts);
        folded = folded[..length];
        starts[length] = true;
        if (whole)
        {
            return folded.SequenceEqual(foldedField);
        }

        for (var from = 0; from <= length - foldedField.Length;)
        {
            var at = folded[from..].IndexOf(foldedField);
            if (at < 0)
            {
                return false;
            }

            at += from;
            if (starts[at] && starts[at + foldedField.Length])
            {
                return true;
            }

            from = at + 1;
        }

        return false;
    }

    /// <summary>
    /// Writes the letters and digits of <paramref name="text"/>, lower-cased, to
    /// <paramref name="folded"/>, and marks where words start in <paramref name="starts"/> (when
    /// it has room): after a character that is not a letter or digit, at an upper-case letter
    /// after a lower-case one or a digit, and at the last of a run of upper-case letters that a
    /// lower-case one follows. Returns how many characters were written.
    /// </summary>
    private static int Fold(string text, Span<char> folded, Span<bool> starts)
    {
        var length = 0;
        var separated = true;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (!char.IsLetterOrDigit(c))
            {
                separated = true;
                continue;
            }

            if (!starts.IsEmpty)
            {
                var previous = i > 0 ? text[i - 1] : '\0';
                starts[length] = separated
                    || (char.IsUpper(c) && (char.IsLower(previous) || char.IsDigit(previous)))
                    || (char.IsUpper(c) && char.IsUpper(previous) && i + 1 < text.Length && char.IsLower(text[i + 1]));
            }

            folded[length++] = char.ToLowerInvariant(c);
            separated = false;
        }

        return length;
    }
}
