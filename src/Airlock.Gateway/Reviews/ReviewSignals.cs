using System.Collections.Concurrent;

namespace Airlock.Gateway.Reviews;

/// <summary>
/// In-process wake-ups for reviews. A held request registers before it reads the review's
/// status, then waits; any change to that review (a decision here, or one arriving from
/// another replica through the store's notifications) completes the wait. Nothing polls the
/// store per held request: a waiter costs one shared <see cref="TaskCompletionSource"/>.
/// </summary>
internal sealed class ReviewSignals
{
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> _waiters = new();

    /// <summary>Raised for every change, after waiters are woken, saying whether a request held
    /// in this process was waiting on it (the background executor listens).</summary>
    public event Action<Guid, bool>? Changed;

    /// <summary>A task that completes at the next change of the review. Register before reading
    /// the review's state, so a change in between is not missed.</summary>
    public Task Next(Guid reviewId) =>
        _waiters.GetOrAdd(reviewId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>True while a request held in this process waits on the review.</summary>
    public bool IsWaited(Guid reviewId) => _waiters.ContainsKey(reviewId);

    /// <summary>Forgets a waiter that stopped waiting (timed out, caller gone).</summary>
    public void Forget(Guid reviewId, Task waited)
    {
        if (_waiters.TryGetValue(reviewId, out var source) && source.Task == waited && !source.Task.IsCompleted)
        {
            _waiters.TryRemove(new KeyValuePair<Guid, TaskCompletionSource>(reviewId, source));
        }
    }

    /// <summary>Wakes every waiter so that each re-reads its review: for when changes may have been
    /// missed (the store's notifications were not being heard for a while).</summary>
    public void SignalAll()
    {
        foreach (var reviewId in _waiters.Keys)
        {
            if (_waiters.TryRemove(reviewId, out var source))
            {
                source.TrySetResult();
            }
        }
    }

    public void Signal(Guid reviewId)
    {
        var waited = _waiters.TryRemove(reviewId, out var source);
        source?.TrySetResult();
        Changed?.Invoke(reviewId, waited);
    }
}
