using System.Net;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Microsoft.AspNetCore.Http;

namespace Airlock.FunctionalTests.Hardening;

/// <summary>OpenTelemetry metrics, scraped by Prometheus on the admin listener.</summary>
public sealed class MetricsTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _upstream.Routes["/people"] = context =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync("{\"probe\":\"probe-1\",\"other\":\"probe-2\"}");
        };
        // Names no other test uses: the tests run many gateways in one process, and the
        // OpenTelemetry meter provider of each sees every meter named Airlock in it.
        _gateway = await TestGateway.StartAsync(new GatewayConfig()
            .Connection("metered-crm", _upstream.BaseUri, "    masking: { detectors: [{ regex: 'probe-[0-9]', label: METRICS-PROBE }] }"));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Requests_decisions_masking_and_the_recording_queue_are_exported_for_prometheus()
    {
        var key = await _gateway.CreateApiKeyAsync("metered");
        (await _gateway.Proxy.SendAsync(TestGateway.Get("/metered-crm/people", key))).EnsureSuccessStatusCode();
        using (var unknown = await _gateway.Proxy.SendAsync(TestGateway.Get("/nowhere/x", key)))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        // Counted as each session ends, just after its answer, and the store write once the
        // session writer has written them (it gathers a batch for a few milliseconds): wait for all.
        var text = await Eventually.GetAsync(async () =>
        {
            var scraped = await _gateway.Admin.GetStringAsync("/metrics");
            return scraped.Contains("label=\"METRICS-PROBE\"", StringComparison.Ordinal)
                && scraped.Contains("unknown-connection", StringComparison.Ordinal)
                && scraped.Contains("what=\"sessions\"", StringComparison.Ordinal) ? scraped : null;
        });

        Assert.Matches(@"airlock_requests_total\{[^}]*connection=""metered-crm"",decision=""allow"",status=""200""[^}]*\} 1\b", text);
        // Other tests' gateways in this process answer unknown connections too: at least ours.
        Assert.Matches(@"airlock_requests_total\{[^}]*decision=""unknown-connection"",status=""404""[^}]*\} [1-9]", text);
        Assert.Matches(@"airlock_masked_values_total\{[^}]*label=""METRICS-PROBE""[^}]*\} 2\b", text);
        Assert.Contains("airlock_recording_queue", text, StringComparison.Ordinal);
        // Both writers that share the store's write turn: the audit trail's commits (which a
        // request waits for) and the session batches they may queue behind.
        Assert.Matches(@"airlock_store_write_duration_seconds_bucket\{[^}]*what=""audit""", text);
        Assert.Matches(@"airlock_store_write_duration_seconds_bucket\{[^}]*what=""sessions""", text);
        using var onProxy = await _gateway.Proxy.GetAsync("/metrics");
        Assert.NotEqual(HttpStatusCode.OK, onProxy.StatusCode);
    }

    [Fact]
    public async Task Metrics_name_the_service_airlock_and_the_gateway_instance_of_the_audit_trail()
    {
        var started = Assert.Single(await _gateway.Store.QueryAuditEventsAsync(new(), CancellationToken.None), e => e.Kind == AuditKinds.GatewayStarted);

        var text = await _gateway.Admin.GetStringAsync("/metrics");

        // Prometheus reads the OpenTelemetry resource from target_info and joins it to every
        // series of the scrape.
        var target = Assert.Single(text.Split('\n'), line => line.StartsWith("target_info{", StringComparison.Ordinal));
        Assert.Contains("service_name=\"airlock\"", target, StringComparison.Ordinal);
        Assert.Contains($"service_instance_id=\"{started.Detail["instance"]}\"", target, StringComparison.Ordinal);
        Assert.Contains($"service_version=\"{started.Detail["version"]}\"", target, StringComparison.Ordinal);
        Assert.DoesNotContain("unknown_service", text, StringComparison.Ordinal);
    }
}
