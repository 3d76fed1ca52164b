using System.Net;
using Airlock.Cli;
using Airlock.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace Airlock.FunctionalTests.Forwarding;

/// <summary>A large response streams through the gateway process without being buffered.</summary>
public sealed class StreamingMemoryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const long OneGiB = 1L << 30;

    /// <summary>Generous on purpose: buffering even a tenth of the body would cross it.</summary>
    private const long PeakResidentLimit = 100L * 1024 * 1024;

    private TestUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await TestUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task A_1_GiB_response_streams_through_with_bounded_memory()
    {
        var config = new GatewayConfig().Connection("files", _upstream.BaseUri);
        var directory = Directory.CreateTempSubdirectory("airlock-process-").FullName;
        var configPath = Path.Combine(directory, "airlock.yaml");
        await File.WriteAllTextAsync(configPath, config.ToYaml());
        await File.WriteAllTextAsync(Path.Combine(directory, "policy.yaml"), config.Policy);
        var keyOutput = new StringWriter();
        Assert.Equal(0, await AirlockCli.RunAsync(["keys", "create", "--config", configPath, "--name", "downloader"], keyOutput, TextWriter.Null));
        var key = keyOutput.ToString().Trim();

        await using var gateway = await GatewayProcess.StartAsync(configPath, config.Environment);
        using var client = new HttpClient { BaseAddress = gateway.ProxyUri, Timeout = TimeSpan.FromMinutes(5) };
        using (var warmup = await client.SendAsync(TestGateway.Get("/files/bytes?n=1024", key)))
        {
            Assert.Equal(HttpStatusCode.OK, warmup.StatusCode);
        }

        var residentBefore = gateway.ResidentBytes();
        using var response = await client.SendAsync(TestGateway.Get($"/files/bytes?n={OneGiB}", key), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[256 * 1024];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        var peak = gateway.PeakResidentBytes();
        output.WriteLine($"gateway RSS before: {residentBefore / 1048576} MiB, peak while streaming 1 GiB: {peak / 1048576} MiB");
        Assert.Equal(OneGiB, total);
        Assert.True(peak - residentBefore < PeakResidentLimit,
            $"the gateway's peak RSS grew by {(peak - residentBefore) / 1048576} MiB while streaming 1 GiB");
    }
}
