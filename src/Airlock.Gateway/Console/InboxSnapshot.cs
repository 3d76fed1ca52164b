using System.Collections.Concurrent;
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
/// <para>
/// The rendered fragments are shared too (<see cref="Listing.FragmentAsync"/>): rendering 200
/// rows for each of 100 consoles was the larger part of a change's cost once the reads were
/// shared. A fragment is kept with the read it was built from and keyed by what it shows (the
/// filter and the exact reviews, in order), never by who asked: two people get the same bytes
/// only when their own filtering chose the same reviews from the same read.
/// </para>
/// </summary>
internal sealed class InboxSnapshot : IDisposable
{
    /// <summary>How many reviews a list reads (the inbox shows at most 200 of them).</summary>
    public const int Limit = 1000;

    /// <summary>The longest a read is reused without a change to say it is stale.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private readonly IReviewStore _store;
    private readonly ReviewSignals _signals;
    private readonly TimeProvider _time;
    private readonly List _pending = new(ReviewStatus.Pending);
    private readonly List _recent = new(null);
    private long _version;

    public InboxSnapshot(IReviewStore store, ReviewSignals signals, TimeProvider time)
    {
        _store = store;
        _signals = signals;
        _time = time;
        signals.Changed += OnChanged;
    }

    /// <summary>The pending reviews, newest first (at most <see cref="Limit"/>).</summary>
    public Task<Listing> PendingAsync(CancellationToken cancellationToken) => ReadAsync(_pending, cancellationToken);

    /// <summary>The newest reviews in any state (at most <see cref="Limit"/>), for the decided tab.</summary>
    public Task<Listing> RecentAsync(CancellationToken cancellationToken) => ReadAsync(_recent, cancellationToken);

    public void Dispose() => _signals.Changed -= OnChanged;

    private void OnChanged(Guid reviewId, bool waitedHere) => Interlocked.Increment(ref _version);

    private Task<Listing> ReadAsync(List list, CancellationToken cancellationToken)
    {
        Read? read;
        lock (list.Lock)
        {
            // The version is taken before the read starts: a change committed after this point
            // moves it on, so the read is never taken for newer than it may be. A clock set back
            // ages it out too.
            var version = Interlocked.Read(ref _version);
            var now = _time.GetUtcNow();
            read = list.Current;
            if (read is null || read.Version != version || now - read.StartedAt > MaxAge || now < read.StartedAt
                || read.Reviews.IsFaulted || read.Reviews.IsCanceled)
            {
                // Started off the lock (SQLite reads run synchronously), and not with the caller's
                // cancellation: others await this read too.
                read = new Read(version, now, Task.Run(async () => new Listing(await _store.ListReviewsAsync(list.Status, Limit, CancellationToken.None))));
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

    private sealed record Read(long Version, DateTimeOffset StartedAt, Task<Listing> Reviews);

    /// <summary>One read of a list, and the fragments rendered from it.</summary>
    public sealed class Listing(IReadOnlyList<Review> reviews)
    {
        /// <summary>Distinct fragments kept per read (filters are free text): beyond it, a fetch
        /// renders its own. A read lasts until the next change, or a second.</summary>
        public const int MaxFragments = 32;

        private readonly ConcurrentDictionary<FragmentKey, Lazy<Task<string>>> _fragments = new();

        public IReadOnlyList<Review> Reviews { get; } = reviews;

        /// <summary>The inbox's fragment for <paramref name="model"/>, which must have been built
        /// from this listing: rendered once, by the first fetch that needs it.</summary>
        public async Task<string> FragmentAsync(InboxModel model, Func<InboxModel, Task<string>> render)
        {
            var key = FragmentKey.Of(model);
            if (!_fragments.TryGetValue(key, out var fragment))
            {
                if (_fragments.Count >= MaxFragments)
                {
                    return await render(model);
                }

                fragment = _fragments.GetOrAdd(key, new Lazy<Task<string>>(() => render(model)));
            }

            try
            {
                return await fragment.Value;
            }
            catch
            {
                // A failed render is not kept: the next fetch tries again.
                _fragments.TryRemove(new KeyValuePair<FragmentKey, Lazy<Task<string>>>(key, fragment));
                throw;
            }
        }
    }

    /// <summary>What a fragment shows: its filter (tab included) and its reviews, list by list.</summary>
    private sealed class FragmentKey : IEquatable<FragmentKey>
    {
        private readonly string _filter;
        private readonly Guid[] _reviews;
        private readonly int _hash;

        private FragmentKey(string filter, Guid[] reviews)
        {
            _filter = filter;
            _reviews = reviews;
            var hash = new HashCode();
            hash.Add(filter, StringComparer.Ordinal);
            foreach (var id in reviews)
            {
                hash.Add(id);
            }

            _hash = hash.ToHashCode();
        }

        public static FragmentKey Of(InboxModel model)
        {
            // Guid.Empty (never a review's id) separates the lists, so that a review moving from
            // one list to the next makes another key.
            var reviews = new Guid[model.Decidable.Count + model.Others.Count + model.Decided.Count + 2];
            var at = 0;
            foreach (var list in (IReadOnlyList<Review>[])[model.Decidable, model.Others, model.Decided])
            {
                foreach (var review in list)
                {
                    reviews[at++] = review.Id;
                }

                at++;
            }

            return new FragmentKey(model.Filter.Query(), reviews);
        }

        public bool Equals(FragmentKey? other) =>
            other is not null && _hash == other._hash && string.Equals(_filter, other._filter, StringComparison.Ordinal)
            && _reviews.AsSpan().SequenceEqual(other._reviews);

        public override bool Equals(object? obj) => Equals(obj as FragmentKey);

        public override int GetHashCode() => _hash;
    }
}
