namespace Airlock.Gateway.Reviews;

/// <summary>
/// <c>Airlock-Reason</c>: why the agent says it needs a call, sent with the request. It is kept
/// with the review and shown to approvers as the agent's own claim (a hostile agent will write
/// "pre-approved by the CFO" there), and never forwarded: every <c>Airlock-*</c> header is the
/// gateway's (<see cref="Forwarding.UntrustedHeaders"/>). Read only when a request is held.
/// </summary>
internal static class AgentReason
{
    public const string HeaderName = "Airlock-Reason";

    /// <summary>The most characters kept: a sentence or two, not a document.</summary>
    public const int MaxLength = 500;

    /// <summary>The reason the request gives, or why it is refused: more than one, too long,
    /// or holding control characters (which could hide or reorder what an approver reads).</summary>
    public static string? Read(Microsoft.AspNetCore.Http.IHeaderDictionary headers, out string? problem)
    {
        problem = null;
        var values = headers[HeaderName];
        if (values.Count == 0)
        {
            return null;
        }

        if (values.Count > 1)
        {
            problem = $"send at most one {HeaderName} header";
            return null;
        }

        var reason = values[0]!.Trim();
        if (reason.Length > MaxLength)
        {
            problem = $"{HeaderName} is limited to {MaxLength} characters; this one has {reason.Length}";
            return null;
        }

        foreach (var c in reason)
        {
            if (char.IsControl(c))
            {
                problem = $"{HeaderName} may not hold control characters (U+{(int)c:X4})";
                return null;
            }
        }

        return reason.Length == 0 ? null : reason;
    }
}
