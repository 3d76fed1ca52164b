using System.Diagnostics;
using System.Text;
using Airlock.Cli.Login;
using Airlock.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Airlock.FunctionalTests.Cli;

/// <summary>
/// How <c>airlock login</c> polls the token endpoint (RFC 8628 §3.4–3.5), against a provider
/// that answers what npm's oidc-provider never does: <c>slow_down</c>. The provider is a real
/// Kestrel server with scripted answers, the sign-in the CLI's own code, on the real clock.
/// </summary>
public sealed class DevicePollingTests
{
    [Fact]
    public async Task Polling_waits_the_interval_and_five_seconds_more_after_slow_down()
    {
        await using var provider = await TestUpstream.StartAsync();
        var issuer = provider.BaseUri.ToString().TrimEnd('/');
        var clock = Stopwatch.StartNew();
        var polls = new List<TimeSpan>();
        provider.Routes["/.well-known/openid-configuration"] = context => JsonAsync(context, 200, $$"""
            {"issuer":"{{issuer}}","device_authorization_endpoint":"{{issuer}}/device/auth","token_endpoint":"{{issuer}}/token"}
            """);
        provider.Routes["/device/auth"] = context => JsonAsync(context, 200, $$"""
            {"device_code":"the-device-code","user_code":"WDJB-MJHT","verification_uri":"{{issuer}}/device","expires_in":120,"interval":1}
            """);
        provider.Routes["/token"] = context =>
        {
            int poll;
            lock (polls)
            {
                polls.Add(clock.Elapsed);
                poll = polls.Count;
            }

            return poll switch
            {
                1 => JsonAsync(context, 400, """{"error":"authorization_pending"}"""),
                2 => JsonAsync(context, 400, """{"error":"slow_down"}"""),
                _ => JsonAsync(context, 200, """{"access_token":"at","token_type":"Bearer","expires_in":300,"refresh_token":"rt"}"""),
            };
        };

        using var http = ProviderClient.CreateHttpClient();
        var output = new StringWriter();
        var result = await new DeviceSignIn(new ProviderClient(http, issuer, "airlock-cli"), TimeProvider.System, output)
            .RunAsync(["openid", "offline_access"], "urn:airlock", CancellationToken.None);

        Assert.Equal(SignInOutcome.SignedIn, result.Outcome);
        Assert.Equal("rt", result.Tokens!.RefreshToken);
        Assert.Contains($"To sign in, open {issuer}/device in a browser and enter the code WDJB-MJHT", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(3, polls.Count);
        Assert.InRange(polls[1] - polls[0], TimeSpan.FromSeconds(0.95), TimeSpan.FromSeconds(4));
        // slow_down: the interval grows from 1 s to 6 s, and stays there.
        Assert.InRange(polls[2] - polls[1], TimeSpan.FromSeconds(5.95), TimeSpan.FromSeconds(10));

        // A public client: its id in the form, no Authorization header; the resource indicator asked for.
        var start = Assert.Single(provider.Received, r => r.RawTarget == "/device/auth");
        Assert.Null(start.Header("Authorization"));
        Assert.Equal(["client_id=airlock-cli", "resource=urn%3Aairlock", "scope=openid+offline_access"], Encoding.UTF8.GetString(start.Body).Split('&').Order(StringComparer.Ordinal));
        var poll = provider.Received.First(r => r.RawTarget == "/token");
        Assert.Null(poll.Header("Authorization"));
        Assert.Contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code", Encoding.UTF8.GetString(poll.Body), StringComparison.Ordinal);
        Assert.Contains("device_code=the-device-code", Encoding.UTF8.GetString(poll.Body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_provider_without_the_device_grant_is_named_as_such()
    {
        await using var provider = await TestUpstream.StartAsync();
        var issuer = provider.BaseUri.ToString().TrimEnd('/');
        provider.Routes["/.well-known/openid-configuration"] = context => JsonAsync(context, 200, $$"""
            {"issuer":"{{issuer}}","token_endpoint":"{{issuer}}/token"}
            """);

        using var http = ProviderClient.CreateHttpClient();
        var result = await new DeviceSignIn(new ProviderClient(http, issuer, "airlock-cli"), TimeProvider.System, TextWriter.Null)
            .RunAsync(["openid"], null, CancellationToken.None);

        Assert.Equal(SignInOutcome.Failed, result.Outcome);
        Assert.Equal($"the identity provider at {issuer} does not offer the device authorization grant (its discovery document has no device_authorization_endpoint)", result.Error);
    }

    private static async Task JsonAsync(HttpContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsync(json);
    }
}
