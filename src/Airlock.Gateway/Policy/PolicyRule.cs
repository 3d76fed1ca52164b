using System.Collections.Immutable;
using Airlock.Gateway.Policy.Conditions;

namespace Airlock.Gateway.Policy;

/// <summary>
/// One compiled rule: its conditions (all must hold) and its action. A rule with no
/// conditions matches every request.
/// </summary>
internal sealed class PolicyRule
{
    public required string Name { get; init; }

    /// <summary>The rule's position in the file, from 0.</summary>
    public required int Index { get; init; }

    /// <summary>The line the rule starts on, for messages.</summary>
    public required int Line { get; init; }

    public required PolicyAction Action { get; init; }

    /// <summary>For deny rules: the sentence the caller gets.</summary>
    public string? Message { get; init; }

    /// <summary>For review rules.</summary>
    public ReviewSettings? Review { get; init; }

    /// <summary>For allow and review rules: what else to mask in the responses to the requests
    /// the rule lets through, on top of the connection's masking; null for nothing more.</summary>
    public Masking.MaskingPlan? Mask { get; init; }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Configuration.MaskingConfig> _maskingByConnection = new(StringComparer.Ordinal);

    /// <summary>
    /// The masking for a response to a request this rule let through on a connection: the
    /// connection's, with this rule's <see cref="Mask"/> added; built once per connection.
    /// </summary>
    public Configuration.MaskingConfig? MaskingOn(string connection, Configuration.MaskingConfig? connectionMasking) =>
        Mask is null ? connectionMasking : _maskingByConnection.GetOrAdd(connection, _ => Configuration.MaskingConfig.WithRule(connectionMasking, Mask));

    public required ImmutableArray<RuleCondition> Conditions { get; init; }

    /// <summary>The connections the rule is limited to; empty for all.</summary>
    public ImmutableArray<string> Connections { get; init; } = [];

    public bool NeedsBody => Conditions.Any(c => c.NeedsBody);

    /// <summary>Allow rules compare exactly; deny and review rules loosely.</summary>
    public bool Strict => Action == PolicyAction.Allow;

    public override string ToString() => $"{Action.ToString().ToLowerInvariant()} rule '{Name}'";
}
