namespace Airlock.Gateway.Storage;

/// <summary>
/// What the gateway's own writes to the store met lately, for <c>/readyz</c>. The audit trail's
/// commits and the session batches report every outcome here. A store that still answers reads
/// but refuses writes (another process holding its lock, a full disk, a read-only database)
/// refuses every request with 503, so readiness follows the writes already being made, not a
/// read, and not a probe write of its own.
/// <para>
/// The latest outcome wins: one failed write makes the store "failing" until a write succeeds.
/// Recovery is seen without traffic too: a request refused for the store leaves a session
/// record that the session writer retries until the store takes it.
/// </para>
/// </summary>
public sealed class StoreWriteHealth(TimeProvider timeProvider)
{
    private readonly Lock _lock = new();
    private int _failures;
    private DateTimeOffset _failingSince;
    private string _lastError = "";

    /// <summary>A write was committed.</summary>
    public void Succeeded()
    {
        // The common case, once per batch: nothing to clear.
        if (Volatile.Read(ref _failures) == 0)
        {
            return;
        }

        lock (_lock)
        {
            Volatile.Write(ref _failures, 0);
        }
    }

    /// <summary>A write failed for the store's sake (unavailable, locked, full), not for its data.</summary>
    public void Failed(Exception exception)
    {
        lock (_lock)
        {
            if (_failures == 0)
            {
                _failingSince = timeProvider.GetUtcNow();
            }

            _lastError = exception.GetType().Name;
            Volatile.Write(ref _failures, _failures + 1);
        }
    }

    /// <summary>Null while the latest write succeeded (or none was made yet); otherwise how many
    /// writes failed in a row, since when, and the last failure's exception type.</summary>
    public (int Failures, DateTimeOffset Since, string LastError)? Failing
    {
        get
        {
            lock (_lock)
            {
                return _failures == 0 ? null : (_failures, _failingSince, _lastError);
            }
        }
    }
}
