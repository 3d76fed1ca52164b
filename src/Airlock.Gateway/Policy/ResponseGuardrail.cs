using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Airlock.Gateway.Detection;
using Airlock.Gateway.Policy.Conditions;

namespace Airlock.Gateway.Policy;

/// <summary>
/// A rule over the upstream's response that blocks it: the agent gets a problem, and the
/// upstream's body never reaches it. Its <c>when</c> conditions (on the request) scope it;
/// its <c>response</c> conditions (status, content type, body) all must hold to block.
/// </summary>
internal sealed class ResponseGuardrail
{
    public required string Name { get; init; }

    public required int Line { get; init; }

    public required ImmutableArray<RuleCondition> Conditions { get; init; }

    public ImmutableArray<int> Statuses { get; init; } = [];

    /// <summary>Media types, exact (<c>application/json</c>) or by type (<c>text/*</c>).</summary>
    public ImmutableArray<string> ContentTypes { get; init; } = [];

    public Regex? BodyMatches { get; init; }

    public ImmutableArray<IDetector> Detectors { get; init; } = [];

    public string? Message { get; init; }

    public bool NeedsBody => BodyMatches is not null || !Detectors.IsEmpty;

    /// <summary>Whether the guardrail applies to this request at all.</summary>
    public bool AppliesTo(RequestFacts facts)
    {
        foreach (var condition in Conditions)
        {
            // Guardrails block, so an ambiguous request is in scope.
            if (!condition.Evaluate(facts, strict: false).Holds(PolicyAction.Deny))
            {
                return false;
            }
        }

        return true;
    }

    public bool StatusAndTypeMatch(int status, string? contentType)
    {
        if (!Statuses.IsEmpty && !Statuses.Contains(status))
        {
            return false;
        }

        if (ContentTypes.IsEmpty)
        {
            return true;
        }

        var mediaType = (contentType ?? "").Split(';', 2)[0].Trim();
        if (contentType is not null && (mediaType.Length == 0 || !mediaType.Contains('/', StringComparison.Ordinal) || contentType.Contains(',', StringComparison.Ordinal)))
        {
            // A content type clients may read several ways is in scope, not out of it.
            return true;
        }

        foreach (var wanted in ContentTypes)
        {
            if (wanted.EndsWith("/*", StringComparison.Ordinal)
                ? mediaType.StartsWith(wanted[..^1], StringComparison.OrdinalIgnoreCase)
                : string.Equals(mediaType, wanted, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a detector finds a value in the response's headers (a card number in a
    /// Location or a debug header is as exposed as one in the body).</summary>
    public bool HeadersTrip(string headerText)
    {
        foreach (var detector in Detectors)
        {
            if (detector.Any(headerText))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the (decoded) body trips the guardrail.</summary>
    public bool BodyMatchesText(string text)
    {
        if (BodyMatches is not null && !BodyMatches.IsMatch(text))
        {
            return false;
        }

        if (Detectors.IsEmpty)
        {
            return true;
        }

        foreach (var detector in Detectors)
        {
            if (detector.Any(text))
            {
                return true;
            }
        }

        return false;
    }
}
