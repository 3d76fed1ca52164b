using Airlock.Cli;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Cli;

/// <summary>The <c>airlock</c> command, run in-process with its output captured.</summary>
public sealed class CliTests
{
    private readonly string _directory = Directory.CreateTempSubdirectory("airlock-cli-").FullName;

    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await AirlockCli.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private string WriteConfig(string yaml)
    {
        var path = Path.Combine(_directory, "airlock.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public async Task Serve_lists_every_configuration_error_with_its_place_and_exits_non_zero()
    {
        var path = WriteConfig("""
            listeners:
              proxy: 127.0.0.1:0
              admin: localhost
            store:
              sqlite: ./airlock.db
            identity:
              apiKeys: true
            connections:
              billing:
                upstream: not a url
                credential: { type: bearer, secret: inline-secret-value }
            policy:
              file: ./policy.yaml
            """);

        var (exit, stdout, stderr) = await RunAsync("serve", "--config", path);

        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains($"error: {path}:3:10: listeners.admin:", stderr, StringComparison.Ordinal);
        Assert.Contains($"error: {path}:10:15: connections.billing.upstream: must be an absolute http or https URL", stderr, StringComparison.Ordinal);
        Assert.Contains($"error: {path}:11:41: connections.billing.credential.secret: secrets cannot be written inline", stderr, StringComparison.Ordinal);
        Assert.Contains("3 error(s) in the configuration; the gateway did not start.", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("inline-secret-value", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_without_a_configuration_says_how_to_give_one()
    {
        var (exit, _, stderr) = await RunAsync("serve");

        Assert.Equal(2, exit);
        Assert.Contains("give the configuration file with --config or set AIRLOCK_CONFIG", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_with_a_missing_file_says_so()
    {
        var (exit, _, stderr) = await RunAsync("serve", "--config", Path.Combine(_directory, "nope.yaml"));

        Assert.Equal(2, exit);
        Assert.Contains("cannot read the configuration file", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keys_are_created_listed_and_revoked_without_the_upstream_secrets_in_the_shell()
    {
        // UPSTREAM_TOKEN is not set in this process: managing keys needs only the store.
        var path = WriteConfig(new GatewayConfig().Connection("billing", new Uri("http://127.0.0.1:9")).ToYaml());

        var created = await RunAsync("keys", "create", "--config", path, "--name", "billing-agent", "--groups", "agents,billing");
        Assert.Equal(0, created.Exit);
        var key = created.Out.Trim();
        Assert.Matches("^alk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$", key);
        Assert.Contains("shown once", created.Err, StringComparison.Ordinal);

        var listed = await RunAsync("keys", "list", "--config", path);
        Assert.Equal(0, listed.Exit);
        Assert.Contains("billing-agent", listed.Out, StringComparison.Ordinal);
        Assert.Contains("agents,billing", listed.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(key[21..], listed.Out, StringComparison.Ordinal);

        var duplicate = await RunAsync("keys", "create", "--config", path, "--name", "billing-agent");
        Assert.Equal(2, duplicate.Exit);
        Assert.Contains("already exists", duplicate.Err, StringComparison.Ordinal);

        var revoked = await RunAsync("keys", "revoke", "--config", path, "billing-agent");
        Assert.Equal(0, revoked.Exit);
        Assert.Contains("Revoked API key 'billing-agent'", revoked.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("billing-agent", (await RunAsync("keys", "list", "--config", path)).Out, StringComparison.Ordinal);
        Assert.Contains("billing-agent", (await RunAsync("keys", "list", "--config", path, "--all")).Out, StringComparison.Ordinal);

        var again = await RunAsync("keys", "revoke", "--config", path, "billing-agent");
        Assert.Equal(1, again.Exit);
        Assert.Contains("no active key", again.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Billing Agent")]
    [InlineData("")]
    public async Task Bad_key_names_are_refused(string name)
    {
        var path = WriteConfig(new GatewayConfig().ToYaml());

        var (exit, stdout, stderr) = await RunAsync("keys", "create", "--config", path, "--name", name);

        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains("is not a valid key name", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sessions_list_shows_what_the_gateway_stored()
    {
        var upstream = await TestUpstream.StartAsync();
        await using (upstream)
        {
            var config = new GatewayConfig().Connection("billing", upstream.BaseUri);
            string storePath;
            await using (var gateway = await TestGateway.StartAsync(config))
            {
                var key = await gateway.CreateApiKeyAsync("lister");
                using var response = await gateway.Proxy.SendAsync(TestGateway.Get("/billing/v1/invoices", key));
                await gateway.SessionAsync(response);
                storePath = Path.Combine(gateway.Directory, "copy.yaml");
                File.WriteAllText(storePath, config.ToYaml().Replace("sqlite: ./airlock.db", $"sqlite: {Path.Combine(gateway.Directory, "airlock.db")}", StringComparison.Ordinal));

                var (exit, stdout, _) = await RunAsync("sessions", "list", "--config", storePath, "--subject", "key:lister");

                Assert.Equal(0, exit);
                var row = Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1));
                Assert.Contains("200", row, StringComparison.Ordinal);
                Assert.Contains("key:lister", row, StringComparison.Ordinal);
                Assert.EndsWith("GET      /billing/v1/invoices", row.TrimEnd(), StringComparison.Ordinal);
            }
        }
    }
}
