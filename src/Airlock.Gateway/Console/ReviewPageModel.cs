using Airlock.Gateway.Policy;
using Airlock.Gateway.Reviews;
using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Console;

/// <summary>A line the page shows above the review: what just happened, or why not.</summary>
/// <param name="Kind"><c>ok</c>, <c>warn</c> or <c>error</c>.</param>
// Public: a console page model shows it (Razor components and their [Parameter]s are public).
public sealed record Notice(string Kind, string Text);

/// <summary>
/// Why a request was held, worked out again over the stored request: the rule that held it as
/// the policy in force reads it (its line, its conditions, whether it still matches), and
/// whether that policy is the version that held it.
/// </summary>
// Public: a console page model shows it (Razor components and their [Parameter]s are public).
public sealed record HeldBecause(string Rule, int? Line, IReadOnlyList<string> Conditions, bool? StillMatches, string? Note,
    string VersionHeld, string VersionNow, string Summary)
{
    public bool SamePolicy => VersionHeld == VersionNow;

    internal static HeldBecause Explain(Review review, CompiledPolicy policy)
    {
        var request = review.Request;
        var headers = new HeaderDictionary();
        foreach (var (name, value) in request.Headers)
        {
            headers.Append(name, value);
        }

        var facts = new RequestFacts(review.Requester, request.Connection, request.Method, request.Path, request.Query, headers)
        {
            Body = InspectedBody.Read(request.Body, ((IHeaderDictionary)headers).ContentType),
        };
        using (facts.Body)
        {
            // A held request already passed the connection's masked-field check; the page
            // explains the rules only.
            var explanation = PolicyExplainer.Explain(policy, facts, masking: null);
            var rule = policy.Rules.FirstOrDefault(r => r.Name == review.Rule);
            var mine = explanation.Rules.FirstOrDefault(r => r.Rule == review.Rule);
            return new HeldBecause(review.Rule, rule?.Line, rule is null ? [] : [.. rule.Conditions.Select(c => c.Describe())],
                mine?.Matched, mine?.Note, review.PolicyVersion, policy.Version, explanation.Summary);
        }
    }
}

/// <summary>Everything the review page shows, worked out before rendering.</summary>
/// <param name="WhyNotDecide">Why this person may not decide it now; null when they may.</param>
/// <param name="NeedsFreshSignIn">A decision would first send them to sign in again (approvalMaxAge).</param>
/// <param name="Windows">The grant windows, in minutes, an approval may ask for (up to the rule's maxGrant).</param>
// Public: a console component (.razor, always public) takes it as a [Parameter].
public sealed record ReviewPageModel(ConsoleFrame Frame, Review Review, string? WhyNotDecide, bool NeedsFreshSignIn, TimeSpan ApprovalMaxAge,
    HeldBecause Why, IReadOnlyList<int> Windows, Notice? Notice)
{
    private static readonly int[] StandardWindows = [15, 30, 60, 120, 240, 480, 1440];

    public static IReadOnlyList<int> WindowsUpTo(TimeSpan maxGrant)
    {
        var most = (int)Math.Min(maxGrant.TotalMinutes, 24 * 60);
        if (most < 1)
        {
            return [];
        }

        var windows = StandardWindows.Where(w => w < most).ToList();
        windows.Add(most);
        return windows;
    }
}
