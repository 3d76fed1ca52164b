using Airlock.Gateway.Configuration;
using Airlock.Gateway.Policy.Conditions;

namespace Airlock.Gateway.Policy;

/// <summary>
/// Finds rules that can never take effect: a rule every request of which an earlier rule of
/// the same action matches first (shadowed), or a stronger action always overrides
/// (unreachable), and allow rules with no conditions. Coverage is judged conservatively: a
/// warning is only given when it is certain.
/// </summary>
internal static class PolicyLinter
{
    public static IEnumerable<ConfigError> Lint(CompiledPolicy policy)
    {
        var rules = policy.Rules;
        for (var b = 0; b < rules.Length; b++)
        {
            var rule = rules[b];
            if (rule.Action == PolicyAction.Allow && rule.Conditions.IsEmpty)
            {
                yield return Warn(policy, rule, "allows every request on every connection: it turns off default deny");
            }

            PolicyRule? reason = null;
            string? why = null;
            foreach (var other in rules)
            {
                if (ReferenceEquals(other, rule) || !Covers(other, rule))
                {
                    continue;
                }

                if (other.Action > rule.Action)
                {
                    reason = other;
                    why = $"never takes effect: every request it matches is {(other.Action == PolicyAction.Deny ? "denied" : "held for review")} by rule '{other.Name}'";
                    break;
                }

                if (other.Action == rule.Action && other.Index < rule.Index)
                {
                    reason = other;
                    why = $"is shadowed: every request it matches is decided first by rule '{other.Name}' (line {other.Line})";
                    break;
                }
            }

            if (reason is not null)
            {
                yield return Warn(policy, rule, why!);
            }
        }
    }

    private static ConfigError Warn(CompiledPolicy policy, PolicyRule rule, string message) =>
        new(policy.SourcePath, rule.Line, 1, $"rules[{rule.Index}] '{rule.Name}'", message);

    /// <summary>True when every request <paramref name="narrow"/> matches, <paramref name="wide"/> matches too.</summary>
    internal static bool Covers(PolicyRule wide, PolicyRule narrow)
    {
        foreach (var condition in wide.Conditions)
        {
            if (!narrow.Conditions.Any(n => ConditionCovers(condition, n)))
            {
                return false;
            }
        }

        return true;
    }

    private static bool ConditionCovers(RuleCondition wide, RuleCondition narrow) => (wide, narrow) switch
    {
        (SetCondition w, SetCondition n) when w.GetType() == n.GetType() => n.Values.All(w.Values.Contains),
        (PathCondition w, PathCondition n) => n.Patterns.All(p => w.Patterns.Any(q => PathCovers(q, p))),
        (GroupsCondition w, GroupsCondition n) =>
            (w.AnyOf.IsEmpty || (!n.AnyOf.IsEmpty && n.AnyOf.All(w.AnyOf.Contains)) || n.AllOf.Any(w.AnyOf.Contains))
            && w.AllOf.All(n.AllOf.Contains),
        (QueryCondition w, QueryCondition n) => w.Name == n.Name && w.Test.ToString() == n.Test.ToString(),
        (HeaderCondition w, HeaderCondition n) => string.Equals(w.Name, n.Name, StringComparison.OrdinalIgnoreCase) && w.Test.ToString() == n.Test.ToString(),
        (JsonBodyCondition w, JsonBodyCondition n) => w.Path.Text == n.Path.Text && w.Test.ToString() == n.Test.ToString(),
        (RawBodyCondition w, RawBodyCondition n) => w.Pattern.ToString() == n.Pattern.ToString(),
        _ => false,
    };

    /// <summary>Whether every path <paramref name="narrow"/> matches, <paramref name="wide"/>
    /// matches: segment by segment, a narrow wildcard must meet a wide one at least as broad.</summary>
    internal static bool PathCovers(PathPattern wide, PathPattern narrow)
    {
        var w = wide.Segments;
        var n = narrow.Segments;
        int p = 0, s = 0, starP = -1, starS = -1;
        while (s < n.Count)
        {
            if (p < w.Count && w[p] == "**")
            {
                starP = p++;
                starS = s;
            }
            else if (p < w.Count && SegmentCovers(w[p], n[s]))
            {
                p++;
                s++;
            }
            else if (starP >= 0)
            {
                p = starP + 1;
                s = ++starS;
            }
            else
            {
                return false;
            }
        }

        while (p < w.Count && w[p] == "**")
        {
            p++;
        }

        return p == w.Count;
    }

    private static bool SegmentCovers(string wide, string narrow) =>
        narrow != "**" && (wide == "*" || wide == narrow || (!narrow.Contains('*', StringComparison.Ordinal) && new PathPattern("/" + wide).Matches("/" + narrow, ignoreCase: false)));
}
