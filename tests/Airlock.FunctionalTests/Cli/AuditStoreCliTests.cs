using Airlock.Cli;
using Airlock.FunctionalTests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Airlock.FunctionalTests.Cli;

/// <summary>
/// <c>airlock audit verify</c> on a store that is not what the configuration promises (a
/// misspelt path, an empty file, a copy without its WAL, a database without Airlock's schema):
/// it must fail, and leave the store exactly as it found it. And <c>airlock audit keygen</c>'s
/// advice, pasted into a configuration, must load.
/// </summary>
public sealed class AuditStoreCliTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("airlock-audit-store-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await AirlockCli.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private string WriteConfig(string store, string? topLevel = null)
    {
        var path = Path.Combine(_directory, "airlock.yaml");
        File.WriteAllText(path, new GatewayConfig { Store = store, TopLevel = topLevel }.Connection("billing", new Uri("http://127.0.0.1:9")).ToYaml());
        return path;
    }

    [Fact]
    public async Task The_configuration_line_keygen_prints_loads_and_signs()
    {
        // A space, '#' and ':' in the path: the printed line must still read as that path.
        var keys = Directory.CreateDirectory(Path.Combine(_directory, "keys #1: audit")).FullName;
        var (exit, stdout, _) = await RunAsync("audit", "keygen", "--out", Path.Combine(keys, "audit-key.pem"));
        Assert.Equal(0, exit);
        const string Advice = "Configure it with:  ";
        var line = stdout.Split('\n').Single(l => l.StartsWith(Advice, StringComparison.Ordinal))[Advice.Length..].TrimEnd();

        var config = WriteConfig("sqlite: ./airlock.db", topLevel: line);
        var created = await RunAsync("keys", "create", "--config", config, "--name", "agent");
        var signed = await RunAsync("audit", "checkpoint", "--config", config);
        var verified = await RunAsync("audit", "verify", "--config", config);

        Assert.True(created.Exit == 0, created.Err);
        Assert.True(signed.Exit == 0, signed.Err);
        Assert.Equal(0, verified.Exit);
        Assert.Contains("Using the public key of the configured signing key", verified.Out, StringComparison.Ordinal);
        Assert.Contains("checkpoint at event 1: signature valid, head hash matches", verified.Out, StringComparison.Ordinal);
    }
}
