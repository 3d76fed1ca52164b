using System.Net;
using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Identity;

/// <summary>Credentials pass through the gateway in both directions; none may reach a log line.</summary>
public sealed class SecretsInLogsTests
{
    [Fact]
    public async Task No_key_token_or_upstream_secret_is_ever_logged_at_any_level()
    {
        var idp = await TestServices.Idp;
        var logs = new CapturedLogs();
        await using var upstream = await TestUpstream.StartAsync();
        var closed = FreePort.Next();
        string key, token, expired;
        await using (var gateway = await TestGateway.StartAsync(new GatewayConfig()
            .Connection("billing", upstream.BaseUri)
            .Connection("down", new Uri($"http://127.0.0.1:{closed}"))
            .TrustIssuer(idp.Issuer), logs: logs))
        {
            key = await gateway.CreateApiKeyAsync("logged-agent");
            token = await idp.TokenAsync("billing-agent");
            expired = await idp.SignAsync(new Dictionary<string, object>
            {
                ["iss"] = idp.Issuer, ["sub"] = "x", ["aud"] = OidcProvider.Audience,
                ["iat"] = 1_700_000_000, ["exp"] = 1_700_000_100,
            });

            foreach (var (path, credential, status) in new[]
            {
                ("/billing/x", key, HttpStatusCode.OK),
                ("/billing/x", token, HttpStatusCode.OK),
                ("/billing/x", expired, HttpStatusCode.Unauthorized),
                ("/billing/x", key[..^2] + "zz", HttpStatusCode.Unauthorized),
                ("/down/x", key, HttpStatusCode.BadGateway),
            })
            {
                using var response = await gateway.Proxy.SendAsync(TestGateway.Get(path, credential));
                Assert.Equal(status, response.StatusCode);
                await gateway.SessionAsync(response);
            }
        }

        Assert.NotEmpty(logs.Lines);
        Assert.Contains(logs.Lines, l => l.Contains("authentication failed: the token has expired", StringComparison.Ordinal));
        string[] secrets = [key[21..], token.Split('.')[2], token.Split('.')[1], expired.Split('.')[2], GatewayConfig.UpstreamToken];
        foreach (var line in logs.Lines)
        {
            foreach (var secret in secrets)
            {
                Assert.False(line.Contains(secret, StringComparison.Ordinal), $"a secret reached the log: {line}");
            }
        }
    }
}
