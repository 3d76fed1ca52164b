using Airlock.Gateway.Configuration;

namespace Airlock.Gateway.Tests.Configuration;

public class TelemetryConfigTests
{
    private const string Base = """
        listeners: { proxy: 127.0.0.1:8080, admin: 127.0.0.1:8081 }
        store: { sqlite: ./airlock.db }
        identity: { apiKeys: true }
        connections:
          billing: { upstream: http://127.0.0.1:9000, credential: { type: none } }
        policy: { file: ./policy.yaml }

        """;

    private static ConfigLoadResult Load(string telemetry) => ConfigLoader.Load(Base + telemetry, "/etc/airlock/airlock.yaml", _ => null);

    [Fact]
    public void Traces_are_off_unless_a_collector_is_named()
    {
        var result = Load("");
        Assert.True(result.Succeeded);
        Assert.Null(result.Config!.Traces);
    }

    [Fact]
    public void A_collector_address_protocol_and_sample_ratio_load()
    {
        var result = Load("telemetry:\n  traces: { otlp: http://collector:4317, protocol: grpc, sampleRatio: 0.25 }\n");
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(new TracesConfig(new Uri("http://collector:4317"), Grpc: true, SampleRatio: 0.25), result.Config!.Traces);

        var defaults = Load("telemetry:\n  traces: { otlp: https://collector.example.com }\n").Config!.Traces!;
        Assert.False(defaults.Grpc);
        Assert.Equal(1.0, defaults.SampleRatio);
    }

    [Theory]
    [InlineData("{ otlp: ftp://collector }", "telemetry.traces.otlp", 8)]
    [InlineData("{ otlp: \"http://user:pw@collector\" }", "telemetry.traces.otlp", 8)]
    [InlineData("{ otlp: http://collector, protocol: thrift }", "telemetry.traces.protocol", 8)]
    [InlineData("{ otlp: http://collector, sampleRatio: 1.5 }", "telemetry.traces.sampleRatio", 8)]
    [InlineData("{ otlp: http://collector, sampleRatio: -0 }", "telemetry.traces.sampleRatio", 8)]
    [InlineData("{ protocol: http }", "telemetry.traces", 8)]
    [InlineData("{ otlp: http://collector, exporter: zipkin }", "telemetry.traces", 8)]
    public void A_wrong_setting_is_an_error_with_its_line(string traces, string path, int line)
    {
        var result = Load($"telemetry:\n  traces: {traces}\n");
        Assert.False(result.Succeeded);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith(path, error.Path, StringComparison.Ordinal);
        Assert.Equal(line, error.Line);
        Assert.DoesNotContain("pw@", error.ToString(), StringComparison.Ordinal);
    }
}
