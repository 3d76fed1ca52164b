using System.Collections.Concurrent;
using Airlock.Gateway.Storage;

namespace Airlock.Gateway.Identity.ApiKeys;

/// <summary>
/// The stored API keys the proxy has looked up, by id, so a request does not read the store
/// (issue 19: that read was one of the largest costs of a request). It keeps what the store
/// returns, the secret's hash and never the secret, and only keys that exist: an unknown id is
/// read from the store every time, so a flood of made-up ids cannot grow it, and a key created
/// anywhere works at once.
/// <para>
/// A revoked key stops working within <see cref="RevocationBound"/>: entries are served only
/// while the last check of the store's change marker that found them current started less than
/// that long ago. <see cref="ApiKeyChangeWatcher"/> checks every
/// <see cref="ApiKeyChangeWatcher.CheckInterval"/> and empties the cache when the marker moved;
/// a change made in this process, or announced by another replica (PostgreSQL NOTIFY), empties
/// it at once. When the check cannot run (the store is down or slow), the entries go stale at
/// the bound and every request reads the store again, which then fails as it did before the
/// cache: a lost announcement or a stuck check can delay a revocation, never past the bound.
/// </para>
/// </summary>
internal sealed class ApiKeyCache
{
    /// <summary>The most a key revoked in another process is still accepted here after the
    /// revocation committed. Two check intervals: one late or failed check is tolerated before
    /// the cache stops serving.</summary>
    public static readonly TimeSpan RevocationBound = TimeSpan.FromSeconds(2);

    /// <summary>Enough for every agent of a large deployment; past it, keys are read from the
    /// store as before. Only ids that exist in the store can take a place.</summary>
    public const int DefaultCapacity = 10_000;

    private readonly IApiKeyStore _store;
    private readonly TimeProvider _time;
    private readonly int _capacity;
    private readonly long _boundInTicks;
    private Entries _entries = new();
    private long _servableUntil = long.MinValue;
    private long? _marker;

    public ApiKeyCache(IApiKeyStore store, TimeProvider time, int capacity = DefaultCapacity)
    {
        _store = store;
        _time = time;
        _capacity = capacity;
        _boundInTicks = (long)(RevocationBound.TotalSeconds * time.TimestampFrequency);
        // The store object the gateway writes through says so: a revocation here applies to
        // the next request, as it did before the cache.
        store.ApiKeysChanged += (_, _) => Clear();
    }

    /// <summary>The stored key with this id (revoked ones too), or null when there is none.</summary>
    public ValueTask<ApiKey?> FindAsync(string id, CancellationToken cancellationToken)
    {
        if (IsServable && Volatile.Read(ref _entries).TryGet(id, out var key))
        {
            return new ValueTask<ApiKey?>(key);
        }

        return ReadAsync(id, cancellationToken);
    }

    private async ValueTask<ApiKey?> ReadAsync(string id, CancellationToken cancellationToken)
    {
        // Taken before the read: if the cache is emptied while the store answers, what was read
        // may be older than the change that emptied it, and goes into the discarded entries.
        var entries = Volatile.Read(ref _entries);
        var key = await _store.FindApiKeyAsync(id, cancellationToken);
        if (key is not null && IsServable)
        {
            entries.TryAdd(id, key, _capacity);
        }

        return key;
    }

    /// <summary>True while the last check that found the entries current is within the bound.</summary>
    public bool IsServable => _time.GetTimestamp() < Volatile.Read(ref _servableUntil);

    /// <summary>How many keys are held (for tests and diagnostics).</summary>
    public int Count => Volatile.Read(ref _entries).Count;

    /// <summary>
    /// A check of the store's change marker that started at <paramref name="startedAt"/>
    /// (<see cref="TimeProvider.GetTimestamp"/>) read <paramref name="marker"/>. A marker other
    /// than the last one seen (or the first one) empties the cache: a key may have changed since
    /// it was read. Either way, what is held from then on is current as of the check's start, so
    /// it may be served until the bound from then.
    /// </summary>
    public void Confirm(long marker, long startedAt)
    {
        if (_marker != marker)
        {
            Clear();
            _marker = marker;
        }

        Volatile.Write(ref _servableUntil, startedAt + _boundInTicks);
    }

    /// <summary>Forgets every key: each is read from the store again on its next use.</summary>
    public void Clear() => Volatile.Write(ref _entries, new Entries());

    /// <summary>One generation of entries. Emptying the cache replaces it whole, so a read that
    /// was under way adds to the old one, which nobody reads any more.</summary>
    private sealed class Entries
    {
        private readonly ConcurrentDictionary<string, ApiKey> _keys = new(StringComparer.Ordinal);
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public bool TryGet(string id, out ApiKey key) => _keys.TryGetValue(id, out key!);

        public void TryAdd(string id, ApiKey key, int capacity)
        {
            // Counted here rather than by ConcurrentDictionary.Count, which takes every lock.
            if (Volatile.Read(ref _count) < capacity && _keys.TryAdd(id, key))
            {
                Interlocked.Increment(ref _count);
            }
        }
    }
}
