namespace Airlock.Gateway.Configuration;

/// <summary>
/// The queue of session records (and recorded exchanges) waiting to be written, shared by every
/// connection. When it is full, <see cref="RefuseWhenFull"/> false makes finishing requests wait
/// for room (back-pressure, the default); true refuses new requests with 503
/// <c>recording-unavailable</c> until there is room. Either way no record of a forwarded request
/// is dropped.
/// </summary>
internal sealed record RecordingQueueConfig(int Capacity, bool RefuseWhenFull)
{
    public static RecordingQueueConfig Default { get; } = new(8192, false);
}
