using System.Threading.Channels;
using Airlock.Gateway.Reviews;

namespace Airlock.Gateway.Console;

/// <summary>
/// Tells open console pages that something changed, so they fetch a fresh fragment: a review
/// opened, decided, executed or expired, here or on another replica (the changes the held
/// requests hear of, <see cref="ReviewSignals"/>). Each page holds one subscription with room
/// for one pending signal: a burst of changes costs a page one refresh, and a slow page never
/// holds anyone up. The signal says only "changed", never what: a page re-reads what it may see.
/// </summary>
internal sealed class ConsoleEvents : IDisposable
{
    private readonly ReviewSignals _signals;
    private readonly Lock _lock = new();
    private Subscription[] _subscriptions = [];

    public ConsoleEvents(ReviewSignals signals)
    {
        _signals = signals;
        signals.Changed += OnChanged;
    }

    /// <summary>One page's subscription; <paramref name="reviewId"/> limits it to one review.</summary>
    public Subscription Subscribe(Guid? reviewId)
    {
        var subscription = new Subscription(this, reviewId);
        lock (_lock)
        {
            _subscriptions = [.. _subscriptions, subscription];
        }

        return subscription;
    }

    private void Unsubscribe(Subscription subscription)
    {
        lock (_lock)
        {
            _subscriptions = [.. _subscriptions.Where(s => s != subscription)];
        }
    }

    private void OnChanged(Guid reviewId, bool waitedHere)
    {
        // Called on the path that made the change: a write that cannot block (room for one).
        foreach (var subscription in Volatile.Read(ref _subscriptions))
        {
            if (subscription.ReviewId is null || subscription.ReviewId == reviewId)
            {
                subscription.Changes.Writer.TryWrite(true);
            }
        }
    }

    public int Count => Volatile.Read(ref _subscriptions).Length;

    public void Dispose() => _signals.Changed -= OnChanged;

    public sealed class Subscription(ConsoleEvents events, Guid? reviewId) : IDisposable
    {
        public Guid? ReviewId { get; } = reviewId;

        internal Channel<bool> Changes { get; } = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            SingleReader = true,
        });

        /// <summary>Waits for the next change; false when <paramref name="timeout"/> passed first or
        /// the wait was cancelled.</summary>
        public async Task<bool> NextAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
        {
            if (Changes.Reader.TryRead(out _))
            {
                return true;
            }

            using var timer = new CancellationTokenSource(timeout, time);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
            try
            {
                await Changes.Reader.WaitToReadAsync(wait.Token);
                return Changes.Reader.TryRead(out _);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        public void Dispose() => events.Unsubscribe(this);
    }
}
