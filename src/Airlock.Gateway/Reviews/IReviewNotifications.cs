namespace Airlock.Gateway.Reviews;

/// <summary>
/// Tells every gateway sharing the store that a review changed, so that a request held on any
/// of them wakes up. SQLite (one machine, one process) signals in process; PostgreSQL uses
/// LISTEN/NOTIFY so that an approval made on one replica reaches a request held on another.
/// </summary>
internal interface IReviewNotifications
{
    /// <summary>Announces a committed change of the review.</summary>
    Task PublishAsync(Guid reviewId, CancellationToken cancellationToken);
}

/// <summary>The SQLite path: the only gateway is this process.</summary>
internal sealed class InProcessReviewNotifications(ReviewSignals signals) : IReviewNotifications
{
    public Task PublishAsync(Guid reviewId, CancellationToken cancellationToken)
    {
        signals.Signal(reviewId);
        return Task.CompletedTask;
    }
}
