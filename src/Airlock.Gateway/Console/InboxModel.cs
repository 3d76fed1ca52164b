using Airlock.Gateway.Reviews;

namespace Airlock.Gateway.Console;

/// <summary>The inbox's filters, as its GET form sends them.</summary>
// Public: a console page model shows it (Razor components and their [Parameter]s are public).
public sealed record InboxFilter(string Tab, string? Connection, string? Rule, string? Requester)
{
    public const string Pending = "pending";
    public const string Decided = "decided";

    public bool Matches(Review review) =>
        (string.IsNullOrEmpty(Connection) || review.Request.Connection == Connection)
        && (string.IsNullOrEmpty(Rule) || review.Rule == Rule)
        && (string.IsNullOrEmpty(Requester)
            || review.Requester.Subject.Contains(Requester, StringComparison.OrdinalIgnoreCase)
            || review.Requester.KeyName?.Contains(Requester, StringComparison.OrdinalIgnoreCase) == true);

    /// <summary>The filter as a query string, for the live fragment and the tabs.</summary>
    public string Query(string? tab = null)
    {
        var parts = new List<string> { "tab=" + Uri.EscapeDataString(tab ?? Tab) };
        if (!string.IsNullOrEmpty(Connection))
        {
            parts.Add("connection=" + Uri.EscapeDataString(Connection));
        }

        if (!string.IsNullOrEmpty(Rule))
        {
            parts.Add("rule=" + Uri.EscapeDataString(Rule));
        }

        if (!string.IsNullOrEmpty(Requester))
        {
            parts.Add("requester=" + Uri.EscapeDataString(Requester));
        }

        return "?" + string.Join('&', parts);
    }
}

/// <summary>What the inbox shows.</summary>
/// <param name="Decidable">Pending reviews this person may decide, newest first.</param>
/// <param name="Others">Pending reviews others must decide (shown to admins and auditors, who see all).</param>
/// <param name="Decided">For the "recently decided" tab: reviews this person may see that are no longer pending.</param>
// Public: a console component (.razor, always public) takes it as a [Parameter].
public sealed record InboxModel(ConsoleFrame Frame, InboxFilter Filter, IReadOnlyList<Review> Decidable, IReadOnlyList<Review> Others,
    IReadOnlyList<Review> Decided, IReadOnlyList<string> Connections, IReadOnlyList<string> Rules);
