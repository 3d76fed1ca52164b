namespace Airlock.Gateway.Policy.Conditions;

/// <summary>
/// A test on a query parameter. A parameter given several times is ambiguous unless every
/// value gives the same verdict: upstreams differ on which occurrence they use.
/// </summary>
internal sealed class QueryCondition(string name, ValueTest test) : RuleCondition
{
    public string Name { get; } = name;

    public ValueTest Test { get; } = test;

    public override string Key => "query";

    public override string Describe() => $"query: {Name} {Test}";

    public override Verdict Evaluate(RequestFacts facts, bool strict)
    {
        var verdict = EvaluateOn(facts.Query, strict);
        // A server that splits on ';' too may read other parameters: both readings must agree.
        return facts.RawQuery?.Contains(';', StringComparison.Ordinal) == true && EvaluateOn(facts.QueryWithSemicolons, strict) != verdict
            ? Verdict.Ambiguous
            : verdict;
    }

    /// <summary>Deny and review rules read every spelling of the name (ASP.NET reads names
    /// without case); for allow rules another spelling makes the parameter ambiguous.</summary>
    private Verdict EvaluateOn(IReadOnlyDictionary<string, List<string>> query, bool strict)
    {
        List<string>? values = null;
        foreach (var (name, found) in query)
        {
            if (string.Equals(name, Name, StringComparison.Ordinal))
            {
                (values ??= []).AddRange(found);
            }
            else if (KeyCase.Same(name, Name))
            {
                if (strict)
                {
                    return Verdict.Ambiguous;
                }

                (values ??= []).AddRange(found);
            }
        }

        return values is null ? Test.Absent() : MultiValue.Evaluate(Test, values, strict);
    }

    public override string WhyAmbiguous(RequestFacts facts) =>
        facts.RawQuery?.Contains(';', StringComparison.Ordinal) == true && EvaluateOn(facts.QueryWithSemicolons, strict: false) != EvaluateOn(facts.Query, strict: false)
            ? "the query reads differently when ';' also separates parameters, as older Rack, Python and Go servers read it"
            : $"the query parameter '{Name}' has several values that disagree, or a value that cannot be compared as the rule asks: {Test}";

    public override string Explain(RequestFacts facts, bool strict) =>
        facts.Query.TryGetValue(Name, out var values)
            ? $"query: {Name}={string.Join("&" + Name + "=", values)} does not satisfy: {Test}"
            : $"query: {Name} is absent; required: {Test}";
}

/// <summary>
/// A test on a request header (name without case); several values as for query. A header given
/// several times reaches the upstream as one line, its values joined by commas (RFC 9110 §5.3
/// makes the two the same field), so a value with commas is also read as the list of its
/// elements: <c>X-Env: dev, prod</c> is ambiguous for <c>X-Env: prod</c>, as two lines are.
/// </summary>
internal sealed class HeaderCondition(string name, ValueTest test) : RuleCondition
{
    public string Name { get; } = name;

    public ValueTest Test { get; } = test;

    public override string Key => "headers";

    public override string Describe() => $"headers: {Name} {Test}";

    public override Verdict Evaluate(RequestFacts facts, bool strict)
    {
        var values = facts.Headers[Name];
        if (values.Count == 0)
        {
            return Test.Absent();
        }

        var verdict = MultiValue.Evaluate(Test, values!, strict);
        foreach (var value in values)
        {
            if (verdict == Verdict.Ambiguous)
            {
                break;
            }

            if (value is not null && value.Contains(',', StringComparison.Ordinal))
            {
                foreach (var element in value.Split(','))
                {
                    verdict = verdict.Merge(Test.Test(element.Trim(' ', '\t'), strict), first: false);
                }
            }
        }

        return verdict;
    }

    public override string WhyAmbiguous(RequestFacts facts) =>
        $"the header '{Name}' has several values (lines, or elements of a comma-separated list) that disagree, or a value that cannot be compared as the rule asks: {Test}";

    public override string Explain(RequestFacts facts, bool strict)
    {
        var values = facts.Headers[Name];
        return values.Count == 0
            ? $"headers: {Name} is absent; required: {Test}"
            : $"headers: {Name}: {values} does not satisfy: {Test}";
    }
}

internal static class MultiValue
{
    public static Verdict Evaluate(ValueTest test, IReadOnlyList<string?> values, bool strict)
    {
        var verdict = Verdict.No;
        for (var i = 0; i < values.Count; i++)
        {
            verdict = verdict.Merge(test.Test(values[i] ?? "", strict), first: i == 0);
        }

        return verdict;
    }
}
