using System.Net;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Admin;

public sealed class HealthTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() =>
        _gateway = await TestGateway.StartAsync(new GatewayConfig().Connection("billing", new Uri("http://127.0.0.1:9")));

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Healthz_answers_while_the_process_serves()
    {
        using var response = await _gateway.Admin.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("healthy", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]);
    }

    [Fact]
    public async Task Readyz_reports_the_configuration_and_the_store()
    {
        using var response = await _gateway.Admin.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("healthy", (string?)body["status"]);
        Assert.Equal("sqlite store reachable", (string?)body["checks"]!["store"]!["detail"]);
        Assert.Contains("1 connection(s)", (string?)body["checks"]!["configuration"]!["detail"], StringComparison.Ordinal);
    }
}
