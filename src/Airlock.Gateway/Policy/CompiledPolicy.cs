using System.Collections.Frozen;
using System.Collections.Immutable;
using Airlock.Gateway.Policy.Conditions;

namespace Airlock.Gateway.Policy;

/// <summary>
/// A policy ready to decide: rules compiled, regular expressions built, lookups frozen. It
/// is built once per load and never changes; a reload builds a new one and swaps it in.
/// <para>
/// Semantics: deny beats review, review beats allow; within one action the first matching rule
/// in file order decides; a request no rule matches is denied unless its connection is listed
/// in <c>allowUnmatched</c>.
/// </para>
/// </summary>
internal sealed class CompiledPolicy
{
    private readonly FrozenDictionary<string, Tiers> _byConnection;
    private readonly Tiers _unscoped;

    public CompiledPolicy(string sourcePath, string version, ImmutableArray<PolicyRule> rules,
        ImmutableArray<ResponseGuardrail> guardrails, ImmutableArray<string> allowUnmatched)
    {
        SourcePath = sourcePath;
        Version = version;
        Rules = rules;
        Guardrails = guardrails;
        AllowUnmatched = allowUnmatched.ToFrozenSet(StringComparer.Ordinal);

        // Per connection, the rules that can apply to it, split by action, in file order: a
        // request only ever scans the rules of its own connection.
        var named = rules.SelectMany(r => r.Connections).Concat(allowUnmatched).Distinct(StringComparer.Ordinal);
        _byConnection = named.ToFrozenDictionary(c => c, c => new Tiers(rules.Where(r => r.Connections.IsEmpty || r.Connections.Contains(c))), StringComparer.Ordinal);
        _unscoped = new Tiers(rules.Where(r => r.Connections.IsEmpty));
    }

    public string SourcePath { get; }

    /// <summary><c>sha256:</c> and the hex SHA-256 of the policy file's bytes.</summary>
    public string Version { get; }

    public ImmutableArray<PolicyRule> Rules { get; }

    public ImmutableArray<ResponseGuardrail> Guardrails { get; }

    public FrozenSet<string> AllowUnmatched { get; }

    public PolicyDecision Decide(RequestFacts facts)
    {
        var tiers = _byConnection.TryGetValue(facts.Connection, out var scoped) ? scoped : _unscoped;
        foreach (var tier in tiers.InPrecedence)
        {
            foreach (var rule in tier)
            {
                switch (Match(rule, facts, out var ambiguous))
                {
                    case RuleMatch.Yes:
                        return new PolicyDecision(rule.Action, rule, Version) { Ambiguity = ambiguous };
                    case RuleMatch.NeedsBody:
                        return new PolicyDecision(rule.Action, rule, Version) { NeedsBody = true };
                }
            }
        }

        return new PolicyDecision(AllowUnmatched.Contains(facts.Connection) ? PolicyAction.Allow : PolicyAction.Deny, null, Version);
    }

    /// <summary>The guardrails that apply to this request's response; empty (no allocation) when none.</summary>
    public ImmutableArray<ResponseGuardrail> GuardrailsFor(RequestFacts facts)
    {
        ImmutableArray<ResponseGuardrail>.Builder? applicable = null;
        foreach (var guardrail in Guardrails)
        {
            if (guardrail.AppliesTo(facts))
            {
                (applicable ??= ImmutableArray.CreateBuilder<ResponseGuardrail>()).Add(guardrail);
            }
        }

        return applicable?.ToImmutable() ?? [];
    }

    internal enum RuleMatch
    {
        No,
        Yes,
        NeedsBody,
    }

    /// <param name="ambiguous">On a match, the first condition that held only because the
    /// request can be read more than one way (deny and review rules), else null.</param>
    internal static RuleMatch Match(PolicyRule rule, RequestFacts facts, out RuleCondition? ambiguous)
    {
        ambiguous = null;
        var strict = rule.Strict;
        var needsBody = false;
        // Conditions are ordered at compile time: cheap ones first, body ones last. A condition
        // that needs the body is decided once it is read, and only if the rest of the rule holds.
        foreach (var condition in rule.Conditions)
        {
            if (facts.Body is null && (condition.NeedsBody || condition.NeedsBodyOf(facts)))
            {
                needsBody = true;
                continue;
            }

            var verdict = condition.Evaluate(facts, strict);
            if (!verdict.Holds(rule.Action))
            {
                return RuleMatch.No;
            }

            if (verdict == Verdict.Ambiguous)
            {
                ambiguous ??= condition;
            }
        }

        return needsBody ? RuleMatch.NeedsBody : RuleMatch.Yes;
    }

    private sealed class Tiers
    {
        public Tiers(IEnumerable<PolicyRule> rules)
        {
            var list = rules.ToList();
            InPrecedence =
            [
                [.. list.Where(r => r.Action == PolicyAction.Deny)],
                [.. list.Where(r => r.Action == PolicyAction.Review)],
                [.. list.Where(r => r.Action == PolicyAction.Allow)],
            ];
        }

        public PolicyRule[][] InPrecedence { get; }
    }
}
