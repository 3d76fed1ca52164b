using System.Diagnostics;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Sessions;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Trace;

namespace Airlock.Gateway.Telemetry;

/// <summary>
/// The gateway's traces, when <c>telemetry.traces</c> names an OTLP collector: one span per
/// request on the proxy listener (ASP.NET Core's), described with the session's id, connection,
/// decision, rule and review; child spans for the wait on the audit trail and for a hold; and
/// the call to the upstream (HttpClient's), which carries the trace on in <c>traceparent</c>.
/// Admin requests are not traced. Spans carry no header values, no bodies, and query strings
/// with their values redacted (the instrumentation's default).
/// </summary>
internal static class AirlockTracing
{
    public const string SourceName = "Airlock";

    /// <summary>Marks a request to an upstream, the only outgoing calls that are traced.</summary>
    public static readonly HttpRequestOptionsKey<bool> UpstreamCall = new("airlock.upstream-call");

    /// <summary>Starts nothing (and costs a null check) unless tracing is on.</summary>
    public static readonly ActivitySource Source = new(SourceName);

    public static void AddTracing(this IOpenTelemetryBuilder telemetry, TracesConfig traces)
    {
        telemetry.WithTracing(tracing => tracing
            // The ratio decides what is kept, for any parent: an agent flagging every request
            // "sampled" must not be able to make the gateway export all of them.
            .SetSampler(new ParentBasedSampler(
                new TraceIdRatioBasedSampler(traces.SampleRatio),
                remoteParentSampled: new TraceIdRatioBasedSampler(traces.SampleRatio),
                remoteParentNotSampled: new TraceIdRatioBasedSampler(traces.SampleRatio)))
            .AddSource(SourceName)
            .AddAspNetCoreInstrumentation(o =>
            {
                o.Filter = Hosting.Listener.IsProxy;
                // The instrumentation records the path as sent; a token an agent put there must
                // not reach the collector any more than the audit trail.
                o.EnrichWithHttpRequest = (span, request) => span.SetTag("url.path", Recording.StoredTarget.Path(request.Path.Value ?? ""));
            })
            .AddHttpClientInstrumentation(o =>
            {
                // Only calls to upstreams: a webhook's URL is itself a credential (a Slack
                // incoming webhook), and the IdP's discovery is not the request's business.
                o.FilterHttpRequestMessage = request => request.Options.TryGetValue(UpstreamCall, out _);
                o.EnrichWithHttpRequestMessage = (span, request) =>
                {
                    if (request.RequestUri is { } uri)
                    {
                        span.SetTag("url.full", new UriBuilder(uri) { Path = Recording.StoredTarget.Path(uri.AbsolutePath), Query = "" }.Uri.ToString());
                    }
                };
            })
            .AddOtlpExporter(o =>
            {
                o.Protocol = traces.Grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                // Over HTTP an endpoint set in code is used as given: a bare collector address
                // gets the standard traces path.
                o.Endpoint = !traces.Grpc && traces.Endpoint.AbsolutePath == "/" ? new Uri(traces.Endpoint, "v1/traces") : traces.Endpoint;
            }));
    }

    /// <summary>Tags the request's span with what the gateway decided, once it has.</summary>
    public static void Describe(Activity? span, SessionRecord session)
    {
        // ASP.NET Core makes a request activity even when no tracer listens; tag only a span
        // something will export.
        if (span is null || !span.IsAllDataRequested || !span.Source.HasListeners())
        {
            return;
        }

        span.SetTag("airlock.session", session.Id.ToString());
        span.SetTag("airlock.connection", session.Connection);
        span.SetTag("airlock.subject", session.Subject);
        span.SetTag("airlock.decision", session.Decision);
        span.SetTag("airlock.rule", session.Rule);
        span.SetTag("airlock.policy_version", session.PolicyVersion);
        span.SetTag("airlock.review", session.ReviewId?.ToString());
        span.SetTag("airlock.masked", session.Masked);
        if (session.Error is { } error)
        {
            span.SetTag("airlock.error", error);
            span.SetStatus(ActivityStatusCode.Error, error);
        }
    }
}
