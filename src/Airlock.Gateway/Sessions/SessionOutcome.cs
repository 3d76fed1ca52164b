namespace Airlock.Gateway.Sessions;

/// <summary>
/// What became of a session's request, worked out from its stored record in one place for
/// <c>airlock sessions list|show</c> and the admin API: a word (<see cref="Of"/>) and a line for
/// people (<see cref="Describe"/>). A request released by an approval or passed under a grant
/// says so, rather than showing the rule that held it as if that rule had allowed it.
/// </summary>
internal static class SessionOutcome
{
    /// <summary>Answered by the gateway before policy decided (unauthenticated, unknown connection, …).</summary>
    public const string Refused = "refused";

    public const string Allowed = "allowed";

    public const string Denied = "denied";

    /// <summary>A review rule matched and an active grant let the request through.</summary>
    public const string Granted = "granted";

    /// <summary>Held for review and answered without being sent (202, or the caller left).</summary>
    public const string Held = "held";

    /// <summary>Sent after its review was approved: on the held connection, or in the background.</summary>
    public const string Approved = "approved";

    /// <summary>Held, then an approver denied it.</summary>
    public const string ReviewDenied = "review-denied";

    /// <summary>Held, and nobody decided before the review expired.</summary>
    public const string ReviewExpired = "review-expired";

    /// <summary>The outcome, or null for what is none of these (a requester reading its review's status).</summary>
    public static string? Of(SessionRecord session) => session switch
    {
        { Decision: null } => session.Error is null ? null : Refused,
        { GrantId: not null } => Granted,
        // The executor marks what it sends as allowed; the review that allowed it stays on the session.
        { Decision: "allow", ReviewId: not null } => Approved,
        { Decision: "allow" } => Allowed,
        { Decision: "deny" } => Denied,
        { Decision: "review", Error: "review-denied" } => ReviewDenied,
        { Decision: "review", Error: "review-expired" } => ReviewExpired,
        { Decision: "review", ReviewId: not null } => Held,
        _ => null,
    };

    /// <summary>
    /// A line for people, e.g. <c>approved in review …4c2e91d0</c>. <paramref name="full"/> gives
    /// whole ids and the rule (<c>sessions show</c>); otherwise an id is its last 8 hex digits (its
    /// first ones are a timestamp, shared by ids made within a minute of each other).
    /// </summary>
    public static string Describe(SessionRecord session, bool full)
    {
        var rule = full ? $" ({session.Rule})" : "";
        var label = Of(session) switch
        {
            Refused => session.Error!,
            Granted => $"grant {Id(session.GrantId!.Value, full)} ({session.Rule})",
            Approved => $"approved in review {Id(session.ReviewId!.Value, full)}{rule}",
            Held => $"held for review {Id(session.ReviewId!.Value, full)}{rule}",
            ReviewDenied => $"denied in review {Id(session.ReviewId!.Value, full)}{rule}",
            ReviewExpired => $"expired in review {Id(session.ReviewId!.Value, full)}{rule}",
            // The short form keeps the rule out to leave room for what went wrong.
            Allowed => session.Error is not null && !full ? "allow" : $"allow by {session.Rule}",
            Denied => $"deny by {session.Rule}",
            _ when session.Decision is null => session.ReviewId is { } review ? $"status of review {Id(review, full)}" : "-",
            _ => $"{session.Decision} by {session.Rule}",
        };

        return session.Error switch
        {
            null or "review-denied" or "review-expired" => label,
            _ when session.Decision is null => label,
            // A denial's error names why, when it is more than the denial itself (a body not read).
            "denied" when session.Decision == "deny" => label,
            { } error when session.Decision == "deny" => $"{label}: {error}",
            { } error => $"{label}, then {error}",
        };
    }

    private static string Id(Guid id, bool full) => full ? id.ToString() : "…" + id.ToString("N")[^8..];
}
