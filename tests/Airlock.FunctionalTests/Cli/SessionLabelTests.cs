using System.Net;
using System.Text.Json.Nodes;
using Airlock.Cli;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.FunctionalTests.Reviews;
using Airlock.Gateway.Sessions;

namespace Airlock.FunctionalTests.Cli;

/// <summary>
/// <c>airlock sessions list|show</c> and the admin API say how a request got through: held for
/// review, released by an approval (on the held connection or in the background), passed under
/// a grant, denied by an approver; not the rule that held it as if that rule had allowed it.
/// </summary>
public sealed class SessionLabelTests : IAsyncLifetime
{
    private OidcProvider _idp = null!;
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private GatewayConfig _config = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestServices.Idp;
        _upstream = await TestUpstream.StartAsync();
        _config = new GatewayConfig { Policy = ApprovalTests.Policy, Admin = "  adminGroups: [airlock-admins]\n  auditorGroups: [auditors]" }
            .Connection("billing", _upstream.BaseUri)
            .TrustIssuer(_idp.Issuer);
        _gateway = await TestGateway.StartAsync(_config);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private static Guid SessionOf(HttpResponseMessage response) => Guid.Parse(Assert.Single(response.Headers.GetValues("Airlock-Session")));

    private static string Tail(Guid id) => "…" + id.ToString("N")[^8..];

    private async Task DecideAsync(Guid review, string verdict, object body)
    {
        using var decided = await _gateway.AdminAsync(HttpMethod.Post, $"/api/reviews/{review}/{verdict}", await _idp.TokenAsync("alice"), body);
        Assert.Equal(HttpStatusCode.OK, decided.StatusCode);
    }

    private async Task<(int Exit, string Out)> CliAsync(params string[] args)
    {
        var config = Path.Combine(_gateway.Directory, "cli.yaml");
        await File.WriteAllTextAsync(config, _config.ToYaml().Replace("sqlite: ./airlock.db", $"sqlite: {Path.Combine(_gateway.Directory, "airlock.db")}", StringComparison.Ordinal));
        var stdout = new StringWriter();
        var exit = await AirlockCli.RunAsync([.. args, "--config", config], stdout, new StringWriter());
        return (exit, stdout.ToString());
    }

    [Fact]
    public async Task Held_approved_granted_and_denied_requests_are_labelled_as_such()
    {
        var agent = await _gateway.CreateApiKeyAsync("billing-agent", "agents");
        var other = await _gateway.CreateApiKeyAsync("other-agent", "agents");

        // Held, answered 202; approved later with a window: executed in the background, then a grant.
        using var held = await _gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":100}", agent, "respond-async"));
        Assert.Equal(HttpStatusCode.Accepted, held.StatusCode);
        var first = Guid.Parse((string)JsonNode.Parse(await held.Content.ReadAsStringAsync())!["reviewId"]!);
        await DecideAsync(first, "approve", new { windowMinutes = 10 });
        var background = await Eventually.GetAsync(async () => (await _gateway.Store.ListSessionsAsync(new SessionQuery(Limit: 50), CancellationToken.None))
            .FirstOrDefault(s => s.ReviewId == first && s.Id != SessionOf(held)), what: "the background execution's session");
        var grant = (await _gateway.ReviewInStatusAsync(first, "executed")).GrantId!.Value;
        using var granted = await _gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":20}", agent));
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);

        // Held on the connection and approved while the caller waits; then one denied.
        var live = _gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":300}", other));
        var second = (await _gateway.PendingReviewAsync()).Id;
        await DecideAsync(second, "approve", new { });
        using var approved = await live;
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        var refused = _gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":900}", other));
        var third = (await _gateway.PendingReviewAsync()).Id;
        await DecideAsync(third, "deny", new { comment = "no" });
        using var denied = await refused;
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        foreach (var response in new[] { held, granted, approved, denied })
        {
            await _gateway.SessionAsync(response);
        }

        var (exit, list) = await CliAsync("sessions", "list");

        Assert.Equal(0, exit);
        var rows = list.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToDictionary(line => line[..36]);
        // The DECISION column: 32 wide, after SESSION, STARTED, STATUS, MS and CALLER.
        string Label(Guid session) => rows[session.ToString()][107..139].TrimEnd();
        Assert.Equal($"held for review {Tail(first)}", Label(SessionOf(held)));
        Assert.Contains("   202 ", rows[SessionOf(held).ToString()], StringComparison.Ordinal);
        Assert.Equal($"approved in review {Tail(first)}", Label(background.Id));
        Assert.Equal($"grant {Tail(grant)} (refunds)", Label(SessionOf(granted)));
        Assert.Equal($"approved in review {Tail(second)}", Label(SessionOf(approved)));
        Assert.Equal($"denied in review {Tail(third)}", Label(SessionOf(denied)));
        Assert.Equal("DECISION".PadRight(32) + "  MASKED", rows["SESSION".PadRight(36)][107..147]);

        // `sessions show` says the same with the whole ids and the rule.
        Assert.Contains($" · approved in review {first} (refunds) · ", (await CliAsync("sessions", "show", background.Id.ToString())).Out, StringComparison.Ordinal);
        Assert.Contains($" · grant {grant} (refunds) · ", (await CliAsync("sessions", "show", SessionOf(granted).ToString())).Out, StringComparison.Ordinal);
        Assert.Contains($" · held for review {first} (refunds) · ", (await CliAsync("sessions", "show", SessionOf(held).ToString())).Out, StringComparison.Ordinal);

        // And the admin API carries the same facts.
        var auditor = await _idp.TokenAsync("auditor");
        foreach (var (session, outcome, review) in new[]
        {
            (SessionOf(held), "held", first), (background.Id, "approved", first), (SessionOf(approved), "approved", second),
            (SessionOf(denied), "review-denied", third),
        })
        {
            using var shown = await _gateway.AdminAsync(HttpMethod.Get, $"/api/sessions/{session}", auditor);
            var json = JsonNode.Parse(await shown.Content.ReadAsStringAsync())!["session"]!;
            Assert.Equal((outcome, review.ToString()), ((string?)json["outcome"], (string?)json["reviewId"]));
        }

        using var grantShown = await _gateway.AdminAsync(HttpMethod.Get, $"/api/sessions/{SessionOf(granted)}", auditor);
        var grantJson = JsonNode.Parse(await grantShown.Content.ReadAsStringAsync())!["session"]!;
        Assert.Equal(("granted", grant.ToString(), "refunds"), ((string?)grantJson["outcome"], (string?)grantJson["grantId"], (string?)grantJson["rule"]));
    }
}
