using Airlock.Gateway.Reviews;
using Airlock.Gateway.Storage;

namespace Airlock.Gateway.Console;

/// <summary>
/// The reviews the inbox lists, read from the store once per change and shared by every open
/// console. A change makes every open inbox fetch its fragment at once (see
/// <see cref="ConsoleEvents"/>); reading up to 1,000 reviews, headers and bodies included, for
/// each of them cost the proxy most of its throughput with 100 consoles open. Here the first fetch
/// after a change starts one read and every fetch meanwhile awaits that same read.
/// <para>
/// Never older than the last change heard of: every change (<see cref="ReviewSignals.Changed"/>,
/// raised after the change is committed, here or on another replica) moves a version on, and a
/// read is used only by fetches that began while the version it was started at still held. A
/// change during a read makes the next fetch read again. Changes this process was not told of
/// (PostgreSQL notifications missed while the listening connection was down) are bounded by
/// <see cref="MaxAge"/>. Failed reads are not kept. Who may see or decide what is not decided
/// here: the snapshot is every pending (or recent) review, and each fetch filters it for its
/// person, as before.
/// </para>
/// </summary>
public sealed class InboxSnapshot : IDisposable
{
    /// <summary>How many reviews a list reads (the inbox shows at most 200 of them).</summary>
    public const int Limit = 1000;

    /// <summary>The longest a read is reused without a change to say it is stale.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private readonly IAirlockStore _store;
    private readonly ReviewSignals _signals;
    private readonly TimeProvider _time;
    private readonly List _pending = new(ReviewStatus.Pending);
    private readonly List _recent = new(null);
    private long _version;

    public InboxSnapshot(IAirlockStore store, ReviewSignals signals, TimeProvider time)
    {
        _store = store;
        _signals = signals;
        _time = time;
        signals.Changed += OnChanged;
    }

    /// <summary>The pending reviews, newest first (at most <see cref="Limit"/>).</summary>
    public Task<IReadOnlyList<Review>> PendingAsync(CancellationToken cancellationToken) => ReadAsync(_pending, cancellationToken);

    /// <summary>The newest reviews in any state (at most <see cref="Limit"/>), for the decided tab.</summary>
    public Task<IReadOnlyList<Review>> RecentAsync(CancellationToken cancellationToken) => ReadAsync(_recent, cancellationToken);

    public void Dispose() => _signals.Changed -= OnChanged;

    private void OnChanged(Guid reviewId, bool waitedHere) => Interlocked.Increment(ref _version);

    private Task<IReadOnlyList<Review>> ReadAsync(List list, CancellationToken cancellationToken)
    {
        Read? read;
        lock (list.Lock)
        {
            // The version is taken before the read starts: a change committed after this point
            // moves it on, so the read is never taken for newer than it may be.
            var version = Interlocked.Read(ref _version);
            var now = _time.GetUtcNow();
            read = list.Current;
            if (read is null || read.Version != version || now - read.StartedAt > MaxAge || read.Reviews.IsFaulted || read.Reviews.IsCanceled)
            {
                // Started off the lock (SQLite reads run synchronously), and not with the caller's
                // cancellation: others await this read too.
                read = new Read(version, now, Task.Run(() => _store.ListReviewsAsync(list.Status, Limit, CancellationToken.None)));
                list.Current = read;
            }
        }

        return read.Reviews.WaitAsync(cancellationToken);
    }

    private sealed class List(string? status)
    {
        public string? Status { get; } = status;

        public Lock Lock { get; } = new();

        public Read? Current { get; set; }
    }

    private sealed record Read(long Version, DateTimeOffset StartedAt, Task<IReadOnlyList<Review>> Reviews);
}
