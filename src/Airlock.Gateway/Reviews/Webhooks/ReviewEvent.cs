namespace Airlock.Gateway.Reviews.Webhooks;

/// <summary>What happened to a review, as webhooks hear it.</summary>
internal sealed record ReviewEvent(string Event, Review Review, DateTimeOffset At, string? Actor = null, string? Comment = null);
