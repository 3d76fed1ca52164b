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

    /// <summary>The masking issue's bound for a 1 GB JSON array: growth under 64 MB.</summary>
    private const long MaskingGrowthLimit = 64L * 1024 * 1024;

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

    [Fact]
    public async Task A_1_GB_json_array_is_masked_as_it_streams_with_bounded_memory()
    {
        var config = new GatewayConfig().Connection("crm", _upstream.BaseUri, """
                masking:
                  detectors: [{ detector: all }]
                  fields: [{ path: "$[*].name", action: partial }]
            """);
        var directory = Directory.CreateTempSubdirectory("airlock-process-").FullName;
        var configPath = Path.Combine(directory, "airlock.yaml");
        await File.WriteAllTextAsync(configPath, config.ToYaml());
        await File.WriteAllTextAsync(Path.Combine(directory, "policy.yaml"), config.Policy);
        var keyOutput = new StringWriter();
        Assert.Equal(0, await AirlockCli.RunAsync(["keys", "create", "--config", configPath, "--name", "exporter"], keyOutput, TextWriter.Null));
        var key = keyOutput.ToString().Trim();

        await using var gateway = await GatewayProcess.StartAsync(configPath, config.Environment);
        using var client = new HttpClient { BaseAddress = gateway.ProxyUri, Timeout = TimeSpan.FromMinutes(5) };
        using (var warmup = await client.SendAsync(TestGateway.Get("/crm/records?n=1000", key)))
        {
            Assert.Equal(HttpStatusCode.OK, warmup.StatusCode);
        }

        // About 9.3 million records of 115 bytes on average: just over 1 GB from the upstream.
        const long records = 9_300_000;
        var residentBefore = gateway.ResidentBytes();
        using var response = await client.SendAsync(TestGateway.Get($"/crm/records?n={records}", key), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[256 * 1024];
        var carry = "";
        long total = 0, redactedEmails = 0, rawEmails = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            total += read;
            // Look across read boundaries: keep the tail of the last read.
            var text = carry + System.Text.Encoding.ASCII.GetString(buffer, 0, read);
            var cut = Math.Max(0, text.Length - 32);
            redactedEmails += Count(text, "\"[REDACTED:EMAIL]\"", cut);
            rawEmails += Count(text, "@example.com", cut);
            carry = text[cut..];
        }

        redactedEmails += Count(carry, "\"[REDACTED:EMAIL]\"", carry.Length);
        rawEmails += Count(carry, "@example.com", carry.Length);
        var peak = gateway.PeakResidentBytes();
        output.WriteLine($"masked {total / 1048576} MiB; gateway RSS before: {residentBefore / 1048576} MiB, peak: {peak / 1048576} MiB");
        Assert.True(total > 1_000_000_000, $"only {total} bytes came through");
        Assert.Equal(0, rawEmails);
        Assert.Equal(TestUpstream.RecordsWithPii(records), redactedEmails);
        Assert.True(peak - residentBefore < MaskingGrowthLimit,
            $"the gateway's peak RSS grew by {(peak - residentBefore) / 1048576} MiB while masking 1 GB");
    }

    /// <summary>Occurrences that start before <paramref name="before"/>; later ones are counted
    /// with the next read, which starts with this one's tail.</summary>
    private static long Count(string text, string what, int before)
    {
        long count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0 && at < before; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
