using System.Text;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Telemetry;

/// <summary>
/// Traces exported over OTLP/HTTP to a real HTTP endpoint standing in for the collector. OTLP
/// bodies are protobuf, where strings are plain UTF-8 and ids raw bytes, so the test looks for
/// those bytes rather than decoding the messages.
/// </summary>
public sealed class TracingTests : IAsyncLifetime
{
    private const string Token = "ghp_0123456789abcdefghijABCDEFGHIJ012345";

    private WebhookReceiver _collector = null!;
    private TestUpstream _upstream = null!;

    public async Task InitializeAsync()
    {
        _collector = await WebhookReceiver.StartAsync();
        _upstream = await TestUpstream.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        await _collector.DisposeAsync();
    }

    [Fact]
    public async Task A_request_is_traced_with_its_decision_and_the_trace_continues_upstream_without_the_credential()
    {
        string key;
        string sessionId;
        string deniedSession;
        await using (var gateway = await TestGateway.StartAsync(new GatewayConfig
        {
            TopLevel = $"telemetry:\n  traces: {{ otlp: \"{_collector.BaseUri}\" }}",
            Policy = """
                rules:
                  - { name: reads, when: { methods: [GET] }, action: allow }
                  - { name: no-deletes, when: { methods: [DELETE] }, action: deny }
                """,
        }.Connection("billing", _upstream.BaseUri)))
        {
            key = await gateway.CreateApiKeyAsync("traced-agent");
            using (var allowed = await gateway.Proxy.SendAsync(TestGateway.Get($"/billing/v1/hooks/{Token}", key)))
            {
                allowed.EnsureSuccessStatusCode();
                sessionId = allowed.Headers.GetValues("Airlock-Session").Single();
            }

            using var delete = new HttpRequestMessage(HttpMethod.Delete, "/billing/v1/customers/1");
            delete.Headers.Authorization = new("Bearer", key);
            using (var denied = await gateway.Proxy.SendAsync(delete))
            {
                Assert.Equal(System.Net.HttpStatusCode.Forbidden, denied.StatusCode);
                deniedSession = denied.Headers.GetValues("Airlock-Session").Single();
            }
        }

        // Stopping the gateway flushes the exporter: everything traced has been delivered.
        var deliveries = _collector.Deliveries.Where(d => d.Path == "/v1/traces").ToList();
        Assert.NotEmpty(deliveries);
        Assert.All(deliveries, d => Assert.Equal("application/x-protobuf", d.Headers["Content-Type"]));
        var exported = deliveries.SelectMany(d => d.Body).ToArray();
        var text = Encoding.UTF8.GetString(exported);

        Assert.Contains(sessionId, text, StringComparison.Ordinal);
        Assert.Contains(deniedSession, text, StringComparison.Ordinal);
        Assert.Contains("airlock.decision", text, StringComparison.Ordinal);
        Assert.Contains("no-deletes", text, StringComparison.Ordinal);
        Assert.Contains("airlock.audit.append", text, StringComparison.Ordinal);
        Assert.DoesNotContain(key, text, StringComparison.Ordinal);
        // A token in the path reaches the upstream, and neither span's URL.
        Assert.Equal($"/v1/hooks/{Token}", _upstream.Only().RawTarget);
        Assert.DoesNotContain(Token, text, StringComparison.Ordinal);
        Assert.Contains("[REDACTED:GITHUB-TOKEN]", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Bearer", text, StringComparison.Ordinal);

        // The upstream call is part of the same trace: its traceparent names a trace that was exported.
        var traceparent = _upstream.Only().Header("traceparent");
        Assert.NotNull(traceparent);
        var traceId = Convert.FromHexString(traceparent.Split('-')[1]);
        Assert.True(exported.AsSpan().IndexOf(traceId) >= 0, "the upstream call's trace id is not among the exported spans");
    }

    [Fact]
    public async Task A_sample_ratio_of_zero_exports_nothing_even_for_a_request_flagged_sampled()
    {
        const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        await using (var gateway = await TestGateway.StartAsync(new GatewayConfig
        {
            TopLevel = $"telemetry:\n  traces: {{ otlp: \"{_collector.BaseUri}\", sampleRatio: 0 }}",
        }.Connection("billing", _upstream.BaseUri)))
        {
            var key = await gateway.CreateApiKeyAsync("eager-agent");
            var request = TestGateway.Get("/billing/v1/customers", key);
            request.Headers.TryAddWithoutValidation("traceparent", $"00-{TraceId}-00f067aa0ba902b7-01");
            (await gateway.Proxy.SendAsync(request)).EnsureSuccessStatusCode();
        }

        // The request went through, and nothing of its trace was exported.
        Assert.Equal("/v1/customers", _upstream.Only().RawTarget);
        Assert.Empty(_collector.Deliveries);
    }

    [Fact]
    public async Task Without_telemetry_configured_nothing_is_exported()
    {
        await using (var gateway = await TestGateway.StartAsync(new GatewayConfig().Connection("billing", _upstream.BaseUri)))
        {
            var key = await gateway.CreateApiKeyAsync("untraced-agent");
            (await gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/customers", key))).EnsureSuccessStatusCode();
        }

        Assert.Empty(_collector.Deliveries);
        Assert.Equal("/v1/customers", _upstream.Only().RawTarget);
    }

    [Fact]
    public async Task Without_tracing_the_gateway_adds_no_trace_headers_and_an_agents_own_pass_unchanged()
    {
        const string AgentTrace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        await using (var gateway = await TestGateway.StartAsync(new GatewayConfig().Connection("billing", _upstream.BaseUri)))
        {
            var key = await gateway.CreateApiKeyAsync("quiet-agent");
            (await gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/plain", key))).EnsureSuccessStatusCode();
            var traced = TestGateway.Get("/billing/v1/traced", key);
            traced.Headers.TryAddWithoutValidation("traceparent", AgentTrace);
            traced.Headers.TryAddWithoutValidation("tracestate", "agent=1");
            (await gateway.Proxy.SendAsync(traced)).EnsureSuccessStatusCode();
        }

        var plain = Assert.Single(_upstream.Received, r => r.RawTarget == "/v1/plain");
        foreach (var name in new[] { "traceparent", "tracestate", "baggage", "Request-Id", "Correlation-Context" })
        {
            Assert.Null(plain.Header(name));
        }

        var agents = Assert.Single(_upstream.Received, r => r.RawTarget == "/v1/traced");
        Assert.Equal(AgentTrace, agents.Header("traceparent"));
        Assert.Equal("agent=1", agents.Header("tracestate"));
    }
}
