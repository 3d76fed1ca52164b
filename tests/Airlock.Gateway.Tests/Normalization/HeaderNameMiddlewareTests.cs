using Airlock.Gateway.Configuration;

namespace Airlock.Gateway.Tests.Normalization;

/// <summary>
/// A header named with a character other than a letter, a digit or '-' is read by CGI-style
/// upstreams as the dashed header of the same letters (<c>X_Remote_User</c> as
/// <c>X-Remote-User</c>): by default such headers are dropped before policy, and on a connection
/// with <c>headersWithUnderscores: refuse</c> the request is refused. Real Kestrel: it accepts
/// these names, as any HTTP/1.1 server must.
/// </summary>
public sealed class HeaderNameMiddlewareTests
{
    [Fact]
    public async Task Headers_with_underscores_or_dots_are_dropped_before_policy_and_the_rest_pass()
    {
        await using var host = await FrontStagesHost.StartAsync(OddHeaderNames.Drop);

        var answer = await host.SendAsync("GET", "/billing/x",
            "X_Remote_User: admin", "X-Remote-User: agent", "X.Role: root", "X-Api-Key2: k", "Accept: */*");

        Assert.Equal(200, answer.Status);
        var headers = answer.Handed.Headers;
        Assert.DoesNotContain("X_Remote_User", headers);
        Assert.DoesNotContain("X.Role", headers);
        Assert.Contains("X-Remote-User", headers);
        Assert.Contains("X-Api-Key2", headers);
        Assert.Contains("Accept", headers);
        Assert.Empty(await host.RecordedRefusalsAsync());
    }

    [Fact]
    public async Task A_connection_that_refuses_them_answers_400_naming_the_header_and_records_the_refusal()
    {
        await using var host = await FrontStagesHost.StartAsync(OddHeaderNames.Refuse);

        var answer = await host.SendAsync("GET", "/billing/x", "X-Remote-User: agent", "X_Remote_User: admin", "Accept_Language: en");

        Assert.Equal(400, answer.Status);
        var problem = answer.Problem;
        Assert.Equal("urn:airlock:problem:ambiguous-header-name", problem.GetProperty("type").GetString());
        Assert.Equal("X_Remote_User", problem.GetProperty("header").GetString());
        Assert.Contains("'X_Remote_User'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(host.LastSession!.Id.ToString(), problem.GetProperty("sessionId").GetString());
        Assert.Equal(0, host.Passed);
        Assert.Equal("ambiguous-header-name", host.LastSession.Error);

        // The connection is known, so the refusal is on the trail as its own event.
        var refusal = Assert.Single(await host.RecordedRefusalsAsync());
        Assert.Equal(("ambiguous-header-name", "400"), (refusal.Detail["problem"], refusal.Detail["status"]));
        Assert.Equal(("billing", "/billing/x"), (refusal.Target!.Connection, refusal.Target.Path));
        Assert.Equal(host.LastSession.Id, refusal.SessionId);
    }

    [Fact]
    public async Task A_connection_that_refuses_them_passes_plain_names()
    {
        await using var host = await FrontStagesHost.StartAsync(OddHeaderNames.Refuse);

        var answer = await host.SendAsync("GET", "/billing/x", "X-Remote-User: agent", "X-Api-Key2: k");

        Assert.Equal(200, answer.Status);
        Assert.Contains("X-Remote-User", answer.Handed.Headers);
        Assert.Equal(1, host.Passed);
        Assert.Null(host.LastSession!.Error);
        Assert.Empty(await host.RecordedRefusalsAsync());
    }
}
