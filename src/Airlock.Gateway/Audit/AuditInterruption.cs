using System.Collections.Immutable;
using System.Globalization;

namespace Airlock.Gateway.Audit;

/// <summary>
/// A time during which the store refused the audit trail's writes, as the writer saw it: from
/// its first failed write until one succeeds. The writer puts it on the trail as
/// <c>audit.interrupted</c>, first in the first batch the store takes again: a gap in what
/// was recorded is itself on record, and writing it is how the writer finds out, without any
/// traffic, that the store takes writes again (<see cref="Storage.StoreWriteHealth"/>).
/// </summary>
internal sealed class AuditInterruption(DateTimeOffset since, Exception firstFailure)
{
    private long _refused;

    public DateTimeOffset Since { get; } = since;

    /// <summary>The exception type of the latest failed write.</summary>
    public string LastError { get; private set; } = firstFailure.GetType().Name;

    public int FailedWrites { get; private set; } = 1;

    /// <summary>How many events were refused to callers waiting for them to be durable (by a
    /// failed write, or for waiting too long).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    public void Failed(Exception exception)
    {
        LastError = exception.GetType().Name;
        FailedWrites++;
    }

    /// <summary>Counts an event refused to its caller; callable from any thread.</summary>
    public void Refuse() => Interlocked.Increment(ref _refused);

    /// <summary>The event that records the interruption, as of <paramref name="now"/>, with the
    /// refusals counted so far (<paramref name="refused"/>).</summary>
    public AuditEvent ToEvent(DateTimeOffset now, out long refused)
    {
        refused = Refused;
        return new AuditEvent
        {
            At = now,
            Kind = AuditKinds.AuditInterrupted,
            Actor = AuditTrail.Gateway,
            Outcome = "resumed",
            Detail = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
            {
                ["since"] = AuditChain.FormatTime(Since),
                ["failedWrites"] = FailedWrites.ToString(CultureInfo.InvariantCulture),
                ["refusedEvents"] = refused.ToString(CultureInfo.InvariantCulture),
                ["error"] = LastError,
            }),
        };
    }
}
