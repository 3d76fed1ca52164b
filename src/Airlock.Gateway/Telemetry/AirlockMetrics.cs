using System.Diagnostics;
using System.Diagnostics.Metrics;
using Airlock.Gateway.Sessions;


namespace Airlock.Gateway.Telemetry;

/// <summary>
/// The gateway's OpenTelemetry metrics, on the <c>Airlock</c> meter, scraped by Prometheus at
/// <c>/metrics</c> on the admin listener:
/// <list type="bullet">
/// <item><c>airlock.requests</c>: requests by connection, decision and status;</item>
/// <item><c>airlock.masked.values</c>: values masked out of responses, by label;</item>
/// <item><c>airlock.reviews.held</c>: requests held for review right now;</item>
/// <item><c>airlock.recording.queue</c>: session records waiting to be written;</item>
/// <item><c>airlock.store.write.duration</c>: how long the store takes to write a batch, by what.</item>
/// </list>
/// </summary>
internal sealed class AirlockMetrics
{
    public const string MeterName = "Airlock";

    private readonly Counter<long> _requests;
    private readonly Counter<long> _masked;
    private readonly UpDownCounter<long> _held;
    private readonly Histogram<double> _storeWrites;

    public AirlockMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _requests = meter.CreateCounter<long>("airlock.requests", "{request}", "Requests on the proxy listener, by connection, decision and status");
        _masked = meter.CreateCounter<long>("airlock.masked.values", "{value}", "Values masked out of responses, by label");
        _held = meter.CreateUpDownCounter<long>("airlock.reviews.held", "{request}", "Requests held for review now");
        _storeWrites = meter.CreateHistogram("airlock.store.write.duration", "s", "Time the store took to write a batch", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        meter.CreateObservableGauge("airlock.recording.queue", () => RecordingQueue?.Invoke() ?? 0, "{record}", "Session records waiting to be written");
    }

    /// <summary>Set by the session writer: how many records wait to be written.</summary>
    public Func<int>? RecordingQueue { get; set; }

    public void RequestEnded(SessionRecord session, Masking.MaskCounts? masked)
    {
        _requests.Add(1,
            new KeyValuePair<string, object?>("connection", session.Connection ?? "-"),
            new KeyValuePair<string, object?>("decision", session.Decision ?? session.Error ?? "-"),
            new KeyValuePair<string, object?>("status", session.Status));
        foreach (var (label, count) in masked?.ByLabel ?? new Dictionary<string, long>())
        {
            _masked.Add(count, new KeyValuePair<string, object?>("label", label));
        }
    }

    public void HoldStarted() => _held.Add(1);

    public void HoldEnded() => _held.Add(-1);

    public void StoreWrote(string what, long startTimestamp) =>
        _storeWrites.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, new KeyValuePair<string, object?>("what", what));
}
