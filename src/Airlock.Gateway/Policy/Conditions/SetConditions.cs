using System.Collections.Frozen;

namespace Airlock.Gateway.Policy.Conditions;

/// <summary>A request fact that must be one of a set of names.</summary>
internal abstract class SetCondition(string key, IEnumerable<string> values, StringComparer comparer) : RuleCondition
{
    public FrozenSet<string> Values { get; } = values.ToFrozenSet(comparer);

    public override string Key => key;

    protected abstract string? Fact(RequestFacts facts);

    protected virtual string Noun => key;

    public override Verdict Evaluate(RequestFacts facts, bool strict) =>
        Fact(facts) is { } value && Values.Contains(value) ? Verdict.Yes : Verdict.No;

    public override string Describe() => $"{key}: {string.Join(", ", Values.Order(StringComparer.Ordinal))}";

    public override string Explain(RequestFacts facts, bool strict) =>
        $"{key}: {Fact(facts) ?? "(none)"} is not one of {string.Join(", ", Values.Order(StringComparer.Ordinal))}";
}

internal sealed class ConnectionCondition(IEnumerable<string> names) : SetCondition("connections", names, StringComparer.Ordinal)
{
    protected override string? Fact(RequestFacts facts) => facts.Connection;
}

/// <summary>Methods are compared as sent; the gateway refuses methods that are not upper case,
/// so <c>delete</c> can never pass for something other than <c>DELETE</c>.</summary>
internal sealed class MethodCondition(IEnumerable<string> methods) : SetCondition("methods", methods, StringComparer.Ordinal)
{
    protected override string? Fact(RequestFacts facts) => facts.Method;

    /// <summary>A POST with a form or JSON body can carry <c>_method</c> in it: Rack (Rails),
    /// Symfony and Laravel read it there (Laravel in a JSON body too) and run that method.</summary>
    public override bool NeedsBodyOf(RequestFacts facts) =>
        facts.Method == "POST" && MethodOverride.BodyMayCarry(facts.Headers.ContentType);

    /// <summary>A <c>_method</c> query parameter, or a field of a POST's form or JSON body, makes
    /// Rails, Laravel and Symfony run another method than the one sent (the header forms are
    /// stripped before forwarding).</summary>
    public override Verdict Evaluate(RequestFacts facts, bool strict)
    {
        if (facts.Body is { } body && facts.Method == "POST" && MethodOverride.InBody(body, facts.Headers.ContentType))
        {
            return Verdict.Ambiguous;
        }

        // The cheap test first: only a query that mentions "method" in any letter case, or has an
        // escape (the query is kept as sent, and "_%6Dethod" is "_method" to every server), is parsed.
        if (facts.RawQuery is { } raw
            && (raw.Contains("method", StringComparison.OrdinalIgnoreCase) || raw.Contains('%', StringComparison.Ordinal))
            && facts.Query.Keys.Any(MethodOverride.IsOverride))
        {
            return Verdict.Ambiguous;
        }

        return base.Evaluate(facts, strict);
    }

    public override string WhyAmbiguous(RequestFacts facts) =>
        facts.Body is { } body && facts.Method == "POST" && MethodOverride.InBody(body, facts.Headers.ContentType)
            ? "the body carries _method, which Rails, Laravel and Symfony run instead of the POST sent"
            : "the query carries _method, which Rails, Laravel and Symfony run instead of the method sent";
}

/// <summary>Where a framework finds a method to run instead of POST in the body of a POST.</summary>
internal static class MethodOverride
{
    /// <summary>Whether a parameter is <c>_method</c> to some server: in any letter case, and as
    /// PHP names it (leading spaces dropped, '.' made '_'), so that <c>.method</c> is Laravel's
    /// and Symfony's <c>_method</c>.</summary>
    public static bool IsOverride(string name)
    {
        var trimmed = name.AsSpan().TrimStart(' ');
        return trimmed.Length == 7 && trimmed[0] is '_' or '.' && KeyCase.Same(trimmed[1..].ToString(), "method");
    }

    /// <summary>A form (urlencoded or multipart), JSON, or a Content-Type that does not parse.</summary>
    public static bool BodyMayCarry(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return false;
        }

        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return true;
        }

        // ToString: a parsed media type always has text; an empty segment would give "".
        var type = media.MediaType.ToString();
        return type.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
            || type.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || type.Contains("/json", StringComparison.OrdinalIgnoreCase)
            || type.Contains("+json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether the body has a field <c>_method</c> (in any letter case) as a form, its
    /// parts or a JSON object read it; a JSON body with more than one reading that mentions
    /// "method" or has an escape counts as having one.</summary>
    public static bool InBody(InspectedBody body, string? contentType)
    {
        if (!BodyMayCarry(contentType) || body.Kind == BodyKind.Empty)
        {
            return false;
        }

        if (body.Multipart is { } multipart)
        {
            return multipart.Parts.Any(p => p.Name is { } name && IsOverride(name));
        }

        var text = body.Text;
        if (!text.Contains("method", StringComparison.OrdinalIgnoreCase) && !text.Contains('%', StringComparison.Ordinal)
            && !text.Contains("\\u", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (body.Json is { RootElement: { ValueKind: System.Text.Json.JsonValueKind.Object } root })
        {
            return root.EnumerateObject().Any(p => KeyCase.Same(p.Name, "_method"));
        }

        if (body.Kind == BodyKind.Opaque && text.TrimStart().StartsWith('{'))
        {
            return true;
        }

        return RequestFacts.ParseForm(text).Keys.Any(IsOverride);
    }
}

internal sealed class SubjectCondition(IEnumerable<string> subjects) : SetCondition("subjects", subjects, StringComparer.Ordinal)
{
    protected override string? Fact(RequestFacts facts) => facts.Identity.Subject;
}

internal sealed class KeyCondition(IEnumerable<string> keys) : SetCondition("keys", keys, StringComparer.Ordinal)
{
    protected override string? Fact(RequestFacts facts) => facts.Identity.KeyName;
}

internal sealed class IssuerCondition(IEnumerable<string> issuers) : SetCondition("issuers", issuers, StringComparer.Ordinal)
{
    protected override string? Fact(RequestFacts facts) => facts.Identity.Issuer;
}
