using System.Text.Json;
using System.Text.Json.Serialization;

namespace Airlock.Gateway.Reviews.Webhooks;

/// <summary>The generic JSON body of a review event (docs/approvals.md lists the fields).</summary>
internal sealed record ReviewEventPayload(
    string Event,
    Guid ReviewId,
    string Status,
    DateTimeOffset At,
    string? Link,
    string Rule,
    string PolicyVersion,
    string Connection,
    string Method,
    string Path,
    string Requester,
    string[] Approvers,
    int ApprovalsNeeded,
    int Approvals,
    DateTimeOffset ExpiresAt,
    string? Actor,
    string? Comment,
    int? ResultStatus);

/// <summary>Slack's incoming-webhook body: a text with a link (mrkdwn).</summary>
internal sealed record SlackPayload(string Text);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ReviewEventPayload))]
[JsonSerializable(typeof(SlackPayload))]
internal sealed partial class WebhookJsonContext : JsonSerializerContext;
