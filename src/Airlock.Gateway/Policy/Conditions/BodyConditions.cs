using System.Text.RegularExpressions;

namespace Airlock.Gateway.Policy.Conditions;

/// <summary>
/// A test on a field of a JSON body. A wildcard reaching several values is ambiguous unless
/// they agree. A body that is not strict JSON (<see cref="BodyKind.Opaque"/>) makes the
/// condition ambiguous: it cannot satisfy an allow rule and always satisfies a deny or review rule.
/// </summary>
internal sealed class JsonBodyCondition(JsonFieldPath path, ValueTest test) : RuleCondition
{
    public JsonFieldPath Path { get; } = path;

    public ValueTest Test { get; } = test;

    public override string Key => "body";

    public override string Describe() => $"body: {Path} {Test}";

    public override bool NeedsBody => true;

    public override Verdict Evaluate(RequestFacts facts, bool strict)
    {
        var body = facts.Body ?? throw new InvalidOperationException("the body was not read before a body condition");
        switch (body.Kind)
        {
            case BodyKind.Empty:
                return Test.Absent();
            case BodyKind.Opaque:
                return Verdict.Ambiguous;
        }

        var verdict = Verdict.No;
        var first = true;
        var test = Test;
        var (reached, ambiguous) = Path.Visit(body.Json!.RootElement, strict, value =>
        {
            verdict = verdict.Merge(test.Test(value, strict), first);
            first = false;
            return verdict != Verdict.Ambiguous;
        });
        if (ambiguous)
        {
            // Another reading of the body reaches another value (or none): no single verdict.
            return Verdict.Ambiguous;
        }

        return reached == 0 ? Test.Absent() : verdict;
    }

    public override string WhyAmbiguous(RequestFacts facts)
    {
        if (facts.Body is not { Kind: BodyKind.Json, Json: { } json })
        {
            return facts.Body?.OpaqueReason ?? "the body cannot be read one way only";
        }

        var container = false;
        var (reached, crossed) = Path.Visit(json.RootElement, strict: false, value =>
        {
            container |= value.ValueKind is System.Text.Json.JsonValueKind.Object or System.Text.Json.JsonValueKind.Array;
            return true;
        });
        return crossed ? $"the body's {Path} runs into an array where an object is expected, or an object where an array is"
            : reached > 1 ? $"the body's {Path} reaches {reached} values that do not all agree on: {Test}"
            : container ? $"the body's {Path} is an array or object where a value is compared (some deserialisers unwrap it)"
            : $"the body's {Path} holds a value that cannot be compared as the rule asks (not a number, or one too long to compare exactly): {Test}";
    }

    public override string Explain(RequestFacts facts, bool strict) => facts.Body?.Kind switch
    {
        BodyKind.Empty => $"body: the request has no body; {Path} is required to satisfy: {Test}",
        BodyKind.Opaque => $"body: {facts.Body.OpaqueReason}, so {Path} cannot be read one way only",
        _ => $"body: {Path} does not satisfy: {Test}",
    };
}

/// <summary>
/// A regular expression over the body as text. Deny and review rules also try the body as an
/// upstream decodes it: every JSON string (escapes such as <c>\u0020</c> resolved), and a form
/// body with its <c>+</c> and <c>%XX</c> decoded. A body declared in another charset than UTF-8
/// never gets here: it is refused before (<see cref="BodyCharset"/>).
/// </summary>
internal sealed class RawBodyCondition(Regex pattern) : RuleCondition
{
    public Regex Pattern { get; } = pattern;

    public override string Key => "bodyMatches";

    public override string Describe() => $"bodyMatches: /{Pattern}/";

    public override bool NeedsBody => true;

    public override Verdict Evaluate(RequestFacts facts, bool strict)
    {
        if (facts.Body is not { Kind: not BodyKind.Empty } body)
        {
            return Verdict.No;
        }

        if (Pattern.IsMatch(body.Text))
        {
            return Verdict.Yes;
        }

        if (strict)
        {
            return Verdict.No;
        }

        if (body.Json is { } json && AnyString(json.RootElement))
        {
            return Verdict.Yes;
        }

        if (FormDecoded(body.Text) is { } form && Pattern.IsMatch(form))
        {
            return Verdict.Yes;
        }

        return Verdict.No;
    }

    private bool AnyString(System.Text.Json.JsonElement element) => element.ValueKind switch
    {
        System.Text.Json.JsonValueKind.String => Pattern.IsMatch(element.GetString()!),
        System.Text.Json.JsonValueKind.Array => element.EnumerateArray().Any(AnyString),
        System.Text.Json.JsonValueKind.Object => element.EnumerateObject().Any(p => Pattern.IsMatch(p.Name) || AnyString(p.Value)),
        _ => false,
    };

    private static string? FormDecoded(string text)
    {
        // No '=' needed: a form parser reads "DROP%20TABLE" as a field named "DROP TABLE".
        if (!text.Contains('%', StringComparison.Ordinal) && !text.Contains('+', StringComparison.Ordinal))
        {
            return null;
        }

        // UnescapeDataString never throws for text: an escape it cannot decode stays as written.
        return Uri.UnescapeDataString(text.Replace('+', ' '));
    }

    public override string Explain(RequestFacts facts, bool strict) => $"bodyMatches: the body does not match /{Pattern}/";
}
