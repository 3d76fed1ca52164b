using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Airlock.Gateway.Identity;

namespace Airlock.Gateway.Reviews;

internal sealed record RequesterView(string Subject, string AuthMethod, string Issuer, string? KeyName, string? Owner, string[] Groups);

/// <summary>A body shown to people: as text when it is UTF-8, otherwise base64.</summary>
internal sealed record BodyView(string? Text, string? Base64, int Bytes, bool Truncated = false)
{
    public static BodyView Of(byte[] body, bool truncated = false)
    {
        if (body.Length == 0)
        {
            return new BodyView("", null, 0, truncated);
        }

        try
        {
            return new BodyView(new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body), null, body.Length, truncated);
        }
        catch (DecoderFallbackException)
        {
            return new BodyView(null, Convert.ToBase64String(body), body.Length, truncated);
        }
    }
}

internal sealed record HeldRequestView(string Connection, string Method, string Path, string? Query, string[][] Headers, BodyView Body);

internal sealed record DecisionView(string Subject, string Verdict, string? Comment, int? WindowMinutes, DateTimeOffset At);

internal sealed record ResultView(int Status, string[][] Headers, BodyView Body, Guid SessionId);

/// <summary>A review as the admin API shows it: the exact request, so an approver sees what
/// they approve, and what the caller may do with it.</summary>
internal sealed record ReviewView(
    Guid Id,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? DecidedAt,
    DateTimeOffset? ExecutedAt,
    string Rule,
    string PolicyVersion,
    RequesterView Requester,
    string[] Approvers,
    int ApprovalsNeeded,
    int Approvals,
    int MaxGrantMinutes,
    HeldRequestView Request,
    DecisionView[] Decisions,
    Guid? GrantId,
    int? ResultStatus,
    bool CanDecide,
    string? WhyNot,
    string? Ambiguous,
    string RequestSha256,
    string? AgentReason)
{
    public static ReviewView Of(Review review, CallerIdentity? viewer)
    {
        var whyNot = viewer is null ? "sign in as an approver to decide" : review.Status != ReviewStatus.Pending
            ? $"the review is {review.Status}"
            : ReviewService.WhyMayNotDecide(viewer, review);
        var r = review.Request;
        return new ReviewView(review.Id, review.Status, review.CreatedAt, review.ExpiresAt, review.DecidedAt, review.ExecutedAt, review.Rule,
            review.PolicyVersion,
            new RequesterView(review.Requester.Subject, review.Requester.AuthMethod, review.Requester.Issuer, review.Requester.KeyName,
                review.Requester.Owner, [.. review.Requester.Groups]),
            [.. review.Approvers], review.ApprovalsNeeded, review.Approvals, (int)review.MaxGrant.TotalMinutes,
            new HeldRequestView(r.Connection, r.Method, r.Path, r.Query, [.. r.Headers.Select(h => new[] { h.Key, h.Value })], BodyView.Of(r.Body)),
            [.. review.Decisions.Select(d => new DecisionView(d.Subject, d.Verdict, d.Comment, d.Window is { } w ? (int)w.TotalMinutes : null, d.At))],
            review.GrantId, review.Result?.Status, whyNot is null, whyNot, review.Ambiguous, review.RequestSha256, review.AgentReason);
    }
}

internal sealed record GrantView(Guid Id, Guid ReviewId, string Subject, string? KeyId, string Rule, string Connection, string[] GrantedBy,
    DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, string? RevokedBy, bool Active)
{
    public static GrantView Of(Grant grant, DateTimeOffset now) => new(grant.Id, grant.ReviewId, grant.Subject, grant.KeyId, grant.Rule, grant.Connection,
        [.. grant.GrantedBy], grant.CreatedAt, grant.ExpiresAt, grant.RevokedAt, grant.RevokedBy, grant.IsActive(now));
}

/// <param name="RequestSha256">The request the person decides, as shown to them
/// (<see cref="ReviewView.RequestSha256"/>); optional, refused when it is not the one held.</param>
internal sealed record DecisionRequest(string? Comment, int? WindowMinutes, string? RequestSha256 = null);

/// <summary>What the requester sees of their own review on the proxy listener.</summary>
internal sealed record RequesterReviewView(Guid ReviewId, string Status, string Rule, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt,
    int Approvals, int ApprovalsNeeded, string Location, string Result, string? Comment);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ReviewView))]
[JsonSerializable(typeof(ReviewView[]))]
[JsonSerializable(typeof(GrantView))]
[JsonSerializable(typeof(GrantView[]))]
[JsonSerializable(typeof(ResultView))]
[JsonSerializable(typeof(DecisionRequest))]
[JsonSerializable(typeof(RequesterReviewView))]
internal sealed partial class ReviewJsonContext : JsonSerializerContext;
