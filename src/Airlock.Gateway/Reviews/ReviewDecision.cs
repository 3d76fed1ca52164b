using System.Collections.Immutable;

namespace Airlock.Gateway.Reviews;

/// <summary>One person's approval or denial of a review.</summary>
/// <param name="Window">For an approval: "allow this for D" (a grant), if asked for.</param>
// Public: a console page model shows it (Razor components and their [Parameter]s are public).
public sealed record ReviewDecision(string Subject, ImmutableArray<string> Groups, string Verdict, string? Comment, TimeSpan? Window, DateTimeOffset At)
{
    public const string Approve = "approve";
    public const string Deny = "deny";
}
