using System.Net;
using System.Text.Json.Nodes;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Policy;

/// <summary>The policy file is watched: a valid change applies without a restart; an invalid one
/// keeps the last good policy and says so everywhere.</summary>
public sealed class PolicyReloadTests : IAsyncLifetime
{
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(new GatewayConfig
        {
            Policy = "rules:\n  - { name: reads, when: { methods: [GET] }, action: allow }\n",
        }.Connection("billing", _upstream.BaseUri));
        _key = await _gateway.CreateApiKeyAsync("agent");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private Task<string> VersionChangesFromAsync(string before) =>
        Eventually.GetAsync(() => Task.FromResult(_gateway.Policies.Current.Version is var v && v != before ? v : null),
            TimeSpan.FromSeconds(20), "the policy file change to be picked up");

    [Fact]
    public async Task A_valid_change_takes_effect_on_the_next_request()
    {
        using (var before = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/x", _key)))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        var oldVersion = _gateway.Policies.Current.Version;
        await File.WriteAllTextAsync(_gateway.PolicyPath, "rules:\n  - { name: lockdown, action: deny, message: Locked down. }\n");
        var newVersion = await VersionChangesFromAsync(oldVersion);

        using var after = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/x", _key));
        Assert.Equal(HttpStatusCode.Forbidden, after.StatusCode);
        Assert.Equal("lockdown", (string?)JsonNode.Parse(await after.Content.ReadAsStringAsync())!["rule"]);
        Assert.Equal(newVersion, (await _gateway.SessionAsync(after)).PolicyVersion);
        var loads = await _gateway.Store.ListPolicyLoadsAsync(10, CancellationToken.None);
        Assert.Equal(["loaded", "loaded"], loads.Select(l => l.Outcome));
        Assert.Equal(newVersion, loads[0].Version);
    }

    [Fact]
    public async Task An_invalid_change_keeps_the_last_good_policy_and_is_reported()
    {
        var goodVersion = _gateway.Policies.Current.Version;
        await File.WriteAllTextAsync(_gateway.PolicyPath, "rules:\n  - { name: broken, action: allow, when: { methods: [get] } }\n");
        var failure = await Eventually.GetAsync(() => Task.FromResult(_gateway.Policies.LastFailure), TimeSpan.FromSeconds(20), "the rejection");

        Assert.Equal(goodVersion, _gateway.Policies.Current.Version);
        Assert.Contains(failure.Errors, e => e.Line == 2 && e.Message.Contains("'get' must be an HTTP method in upper case", StringComparison.Ordinal));

        using (var still = await _gateway.Proxy.SendAsync(TestGateway.Get("/billing/x", _key)))
        {
            Assert.Equal(HttpStatusCode.OK, still.StatusCode);
            Assert.Equal(goodVersion, (await _gateway.SessionAsync(still)).PolicyVersion);
        }

        using var ready = await _gateway.Admin.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var policy = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!["checks"]!["policy"]!;
        Assert.Equal("degraded", (string?)policy["status"]);
        Assert.Equal(goodVersion, (string?)policy["version"]);
        Assert.Contains("'get' must be an HTTP method in upper case", policy["errors"]!.AsArray()[0]!.GetValue<string>(), StringComparison.Ordinal);

        // The rejection is reported first and stored just after: wait for the stored event.
        var rejected = await Eventually.GetAsync(async () =>
            (await _gateway.Store.ListPolicyLoadsAsync(10, CancellationToken.None)).FirstOrDefault(l => l.Outcome == "rejected"), what: "the stored rejection");
        Assert.Contains("must be an HTTP method in upper case", rejected.Errors, StringComparison.Ordinal);

        // Fixing the file clears the report.
        await File.WriteAllTextAsync(_gateway.PolicyPath, "rules:\n  - { name: reads, when: { methods: [GET, HEAD] }, action: allow }\n");
        await VersionChangesFromAsync(goodVersion);
        Assert.Null(_gateway.Policies.LastFailure);
    }
}

/// <summary>A policy mounted the way Kubernetes mounts a ConfigMap: a symbolic link re-pointed.</summary>
public sealed class PolicySymlinkReloadTests
{
    [Fact]
    public async Task A_re_pointed_symbolic_link_is_picked_up()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(new GatewayConfig().Connection("billing", upstream.BaseUri));
        var key = await gateway.CreateApiKeyAsync("agent");
        // ..data -> v1/, policy.yaml -> ..data/policy.yaml, as kubelet lays a ConfigMap out.
        var dir = gateway.Directory;
        Directory.CreateDirectory(Path.Combine(dir, "v1"));
        Directory.CreateDirectory(Path.Combine(dir, "v2"));
        File.WriteAllText(Path.Combine(dir, "v1", "policy.yaml"), File.ReadAllText(gateway.PolicyPath));
        File.WriteAllText(Path.Combine(dir, "v2", "policy.yaml"), "rules:\n  - { name: lockdown, action: deny }\n");
        File.CreateSymbolicLink(Path.Combine(dir, "..data"), "v1");
        File.Delete(gateway.PolicyPath);
        File.CreateSymbolicLink(gateway.PolicyPath, Path.Combine("..data", "policy.yaml"));
        var before = gateway.Policies.Current.Version;

        // Swap the ..data link atomically, as kubelet does.
        File.CreateSymbolicLink(Path.Combine(dir, "..data_tmp"), "v2");
        await ProcessRunner.RunAsync("mv", ["-Tf", Path.Combine(dir, "..data_tmp"), Path.Combine(dir, "..data")]);

        await Eventually.GetAsync(() => Task.FromResult(gateway.Policies.Current.Version != before ? "changed" : null),
            TimeSpan.FromSeconds(20), "the re-pointed policy to load");
        using var response = await gateway.Proxy.SendAsync(TestGateway.Get("/billing/x", key));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
