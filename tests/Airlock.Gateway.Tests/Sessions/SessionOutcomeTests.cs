using Airlock.Gateway.Sessions;

namespace Airlock.Gateway.Tests.Sessions;

/// <summary>How a stored session is described: by what became of the request, with the review or
/// grant that let it through.</summary>
public sealed class SessionOutcomeTests
{
    private static readonly Guid Review = Guid.Parse("01a20d55-1c2e-7a3b-9f00-0000c0ffee42");
    private static readonly Guid Grant = Guid.Parse("01a20d56-0000-7000-8000-0000deadbeef");

    private static SessionRecord Session(string? decision, string? rule = "refunds", Guid? review = null, Guid? grant = null, string? error = null, int status = 200) => new()
    {
        Id = Guid.Parse("01a20d57-0000-7000-8000-000000000001"),
        StartedAt = DateTimeOffset.UnixEpoch,
        Duration = TimeSpan.Zero,
        Method = "POST",
        Path = "/billing/v1/refunds",
        Status = status,
        Decision = decision,
        Rule = decision is null ? null : rule,
        ReviewId = review,
        GrantId = grant,
        Error = error,
    };

    public static TheoryData<SessionRecord, string?, string, string> Cases => new()
    {
        { Session(null, error: "unauthenticated", status: 401), "refused", "unauthenticated", "unauthenticated" },
        { Session("allow", rule: "reads"), "allowed", "allow by reads", "allow by reads" },
        { Session("allow", rule: "reads", error: "response-blocked", status: 403), "allowed", "allow, then response-blocked", "allow by reads, then response-blocked" },
        { Session("deny", rule: "no-deletes", error: "denied", status: 403), "denied", "deny by no-deletes", "deny by no-deletes" },
        { Session("deny", error: "body-too-large", status: 413), "denied", "deny by refunds: body-too-large", "deny by refunds: body-too-large" },
        { Session("review", review: Review, status: 202), "held", "held for review …c0ffee42", $"held for review {Review} (refunds)" },
        { Session("allow", review: Review), "approved", "approved in review …c0ffee42", $"approved in review {Review} (refunds)" },
        { Session("allow", review: Review, error: "upstream-timeout", status: 504), "approved", "approved in review …c0ffee42, then upstream-timeout",
            $"approved in review {Review} (refunds), then upstream-timeout" },
        { Session("allow", grant: Grant), "granted", "grant …deadbeef (refunds)", $"grant {Grant} (refunds)" },
        { Session("review", review: Review, error: "review-denied", status: 403), "review-denied", "denied in review …c0ffee42", $"denied in review {Review} (refunds)" },
        { Session("review", review: Review, error: "review-expired", status: 403), "review-expired", "expired in review …c0ffee42", $"expired in review {Review} (refunds)" },
        { Session("review", review: Review, error: "store-unavailable", status: 503), "held", "held for review …c0ffee42, then store-unavailable",
            $"held for review {Review} (refunds), then store-unavailable" },
        { Session(null, review: Review), null, "status of review …c0ffee42", $"status of review {Review}" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_session_is_described_by_what_became_of_its_request(SessionRecord session, string? outcome, string listed, string shown)
    {
        Assert.Equal(outcome, SessionOutcome.Of(session));
        Assert.Equal(listed, SessionOutcome.Describe(session, full: false));
        Assert.Equal(shown, SessionOutcome.Describe(session, full: true));
    }
}
