namespace Airlock.Gateway.Storage;

/// <summary>The gateway's two writers to the store, each judged on its own writes.</summary>
internal enum StoreWriter
{
    /// <summary><see cref="Audit.AuditWriter"/>: every request waits on it.</summary>
    Audit,

    /// <summary><see cref="Sessions.SessionWriter"/>: session records, off the request path.</summary>
    Sessions,
}

/// <summary>
/// What the gateway's own writes to the store met lately, for <c>/readyz</c>. The audit trail's
/// commits and the session batches report every outcome here. A store that still answers reads
/// but refuses writes (another process holding its lock, a full disk, a read-only database)
/// refuses every request with 503, so readiness follows the writes already being made, not a
/// read, and not a probe write of its own.
/// <para>
/// Each writer has its own state, and the latest outcome of each wins: the store is "failing"
/// while either writer's latest write failed. One shared state would let one writer's success
/// hide the other's failure: with only the audit table refusing writes, every request gets 503
/// while the session rows of those very requests are written, and would clear it.
/// </para>
/// Recovery is seen without traffic too: a request refused for the store leaves a session
/// record that the session writer retries until the store takes it, and the audit writer, once
/// a write failed, retries until one succeeds (<see cref="Audit.AuditWriter"/>).
/// </summary>
internal sealed class StoreWriteHealth(TimeProvider timeProvider)
{
    private readonly Lock _lock = new();
    private readonly WriterState[] _writers = [new(), new()];

    /// <summary>A write by <paramref name="writer"/> was committed.</summary>
    public void Succeeded(StoreWriter writer)
    {
        var state = _writers[(int)writer];
        // The common case, once per batch: nothing to clear.
        if (Volatile.Read(ref state.Failures) == 0)
        {
            return;
        }

        lock (_lock)
        {
            Volatile.Write(ref state.Failures, 0);
        }
    }

    /// <summary>A write by <paramref name="writer"/> failed for the store's sake (unavailable,
    /// locked, full), not for its data.</summary>
    public void Failed(StoreWriter writer, Exception exception)
    {
        var state = _writers[(int)writer];
        lock (_lock)
        {
            if (state.Failures == 0)
            {
                state.Since = timeProvider.GetUtcNow();
            }

            state.LastError = exception.GetType().Name;
            Volatile.Write(ref state.Failures, state.Failures + 1);
        }
    }

    /// <summary>Null while each writer's latest write succeeded (or none was made yet);
    /// otherwise the failing writer (the one failing longest, when both are), how many of its
    /// writes failed in a row, since when, and the last failure's exception type.</summary>
    public (StoreWriter Writer, int Failures, DateTimeOffset Since, string LastError)? Failing
    {
        get
        {
            lock (_lock)
            {
                (StoreWriter, int, DateTimeOffset, string)? failing = null;
                for (var i = 0; i < _writers.Length; i++)
                {
                    var state = _writers[i];
                    if (state.Failures > 0 && (failing is null || state.Since < failing.Value.Item3))
                    {
                        failing = ((StoreWriter)i, state.Failures, state.Since, state.LastError);
                    }
                }

                return failing;
            }
        }
    }

    private sealed class WriterState
    {
        public int Failures;
        public DateTimeOffset Since;
        public string LastError = "";
    }
}
