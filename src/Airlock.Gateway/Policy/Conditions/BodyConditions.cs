using System.Text.RegularExpressions;

namespace Airlock.Gateway.Policy.Conditions;

/// <summary>
/// A test on a field of a JSON body. A wildcard reaching several values is ambiguous unless
/// they agree. A body that is not strict JSON (<see cref="BodyKind.Opaque"/>) makes the
/// condition ambiguous: it cannot satisfy an allow rule and always satisfies a deny or review rule.
/// </summary>
public sealed class JsonBodyCondition(JsonFieldPath path, ValueTest test) : RuleCondition
{
    public JsonFieldPath Path { get; } = path;

    public ValueTest Test { get; } = test;

    public override string Key => "body";

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
        var reached = Path.Visit(body.Json!.RootElement, strict, value =>
        {
            verdict = verdict.Merge(test.Test(value, strict), first);
            first = false;
            return verdict != Verdict.Ambiguous;
        });
        return reached == 0 ? Test.Absent() : verdict;
    }

    public override string Explain(RequestFacts facts, bool strict) => facts.Body?.Kind switch
    {
        BodyKind.Empty => $"body: the request has no body; {Path} is required to satisfy: {Test}",
        BodyKind.Opaque => $"body: {facts.Body.OpaqueReason}, so {Path} cannot be read one way only",
        _ => $"body: {Path} does not satisfy: {Test}",
    };
}

/// <summary>A regular expression over the body as text, for content that is not JSON.</summary>
public sealed class RawBodyCondition(Regex pattern) : RuleCondition
{
    public Regex Pattern { get; } = pattern;

    public override string Key => "bodyMatches";

    public override bool NeedsBody => true;

    public override Verdict Evaluate(RequestFacts facts, bool strict) =>
        facts.Body is { Kind: not BodyKind.Empty } body && Pattern.IsMatch(body.Text) ? Verdict.Yes : Verdict.No;

    public override string Explain(RequestFacts facts, bool strict) => $"bodyMatches: the body does not match /{Pattern}/";
}
