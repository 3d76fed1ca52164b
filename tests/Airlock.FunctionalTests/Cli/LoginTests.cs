using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.FunctionalTests.Reviews;
using Airlock.Gateway.Reviews;

namespace Airlock.FunctionalTests.Cli;

/// <summary>The device-flow provider the login tests share: short-lived access tokens, polls every second.</summary>
public sealed class DeviceFlowIdp : IAsyncLifetime
{
    public const string ClientId = "airlock-cli";

    public OidcProvider Provider { get; private set; } = null!;

    public static Task<OidcProvider> StartAsync(int accessTokenTtl = 3, int? deviceCodeTtl = null) =>
        OidcProvider.StartAsync(new Dictionary<string, string>
        {
            ["AIRLOCK_TEST_DEVICE_FLOW"] = JsonSerializer.Serialize(new
            {
                clientId = ClientId,
                people = new Dictionary<string, string[]>
                {
                    ["alice"] = ["finance-approvers", "people"],
                    ["bob"] = ["finance-approvers", "people"],
                },
                interval = 1,
                accessTokenTTL = accessTokenTtl,
                deviceCodeTTL = deviceCodeTtl,
            }),
        });

    public async Task InitializeAsync() => Provider = await StartAsync();

    public async Task DisposeAsync() => await Provider.DisposeAsync();
}

/// <summary>
/// <c>airlock login</c> and <c>logout</c> as a person at a terminal uses them: the CLI as a child
/// process, the real npm oidc-provider's device flow finished on its own pages, a real gateway.
/// </summary>
public sealed partial class LoginTests(DeviceFlowIdp idp) : IClassFixture<DeviceFlowIdp>, IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("airlock-login-").FullName;

    private string ProfilePath => Path.Combine(_home, "config", "airlock", "profile.json");

    private Dictionary<string, string> Environment => new() { ["AIRLOCK_PROFILE"] = ProfilePath };

    /// <summary>A gateway that trusts the provider with no clock skew (an expired token is refused at
    /// once) and tells <c>airlock login</c> how to sign in.</summary>
    private static GatewayConfig Config(Uri upstream, OidcProvider provider, string audience = OidcProvider.Audience, bool offerLogin = true)
    {
        var config = new GatewayConfig
        {
            Policy = ApprovalTests.Policy,
            Admin = offerLogin ? $"  login: {{ issuer: corp, clientId: {DeviceFlowIdp.ClientId} }}" : null,
        }.Connection("billing", upstream);
        config.Issuers.Add($"""
                - name: corp
                  issuer: {provider.Issuer}
                  audience: {audience}
                  clockSkew: 0s
                  allowHttp: true
            """);
        return config;
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_person_signs_in_at_the_terminal_and_the_reviews_verbs_use_and_renew_the_saved_sign_in()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(Config(upstream.BaseUri, idp.Provider));
        var key = await gateway.CreateApiKeyAsync("billing-agent", "agents");
        using (var accepted = await gateway.Proxy.SendAsync(ApprovalTests.Post("/billing/v1/refunds", "{\"amount\":512}", key, "respond-async")))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        var review = await gateway.PendingReviewAsync();
        var outputs = new List<string>();

        var login = await SignInAsync(gateway.AdminUri, "alice");
        outputs.Add(login.Out + login.Err);
        Assert.True(login.Exit == 0, login.Out + login.Err);
        Assert.Contains($"Signed in to {gateway.AdminUri} as corp:alice (groups: finance-approvers, people).", login.Out, StringComparison.Ordinal);
        Assert.Contains($"Saved to {ProfilePath} (readable by you only)", login.Out, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ProfilePath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(ProfilePath)!));
        var saved = ReadProfile();
        Assert.Equal(gateway.AdminUri, new Uri((string)saved["adminUrl"]!));
        Assert.Equal(idp.Provider.Issuer, (string?)saved["issuer"]);
        Assert.Equal(DeviceFlowIdp.ClientId, (string?)saved["clientId"]);
        var firstAccess = (string)saved["accessToken"]!;
        var firstRefresh = (string)saved["refreshToken"]!;

        // The access token lives 3 s: once the gateway refuses it, the CLI renews it first.
        await UntilRefusedAsync(gateway, firstAccess);
        var list = await CliProcess.RunAsync(Environment, "reviews", "list");
        outputs.Add(list.Out + list.Err);
        Assert.True(list.Exit == 0, list.Err);
        Assert.Contains(review.Id.ToString(), list.Out, StringComparison.Ordinal);
        var renewed = ReadProfile();
        Assert.NotEqual(firstAccess, (string?)renewed["accessToken"]);
        Assert.NotEqual(firstRefresh, (string?)renewed["refreshToken"]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ProfilePath));

        // A token the profile says is valid but the gateway refuses (clocks differ, say): renewed
        // once, and the request asked again.
        var secondAccess = (string)renewed["accessToken"]!;
        await UntilRefusedAsync(gateway, secondAccess);
        renewed["expiresAt"] = TimeProvider.System.GetUtcNow().AddHours(1).ToString("O");
        await File.WriteAllTextAsync(ProfilePath, renewed.ToJsonString());
        var show = await CliProcess.RunAsync(Environment, "reviews", "show", review.Id.ToString());
        outputs.Add(show.Out + show.Err);
        Assert.True(show.Exit == 0, show.Err);
        Assert.Contains("{\"amount\":512}", show.Out, StringComparison.Ordinal);
        Assert.NotEqual(secondAccess, (string?)ReadProfile()["accessToken"]);

        var approve = await CliProcess.RunAsync(Environment, "reviews", "approve", review.Id.ToString(), "-m", "signed in at the terminal");
        outputs.Add(approve.Out + approve.Err);
        Assert.True(approve.Exit == 0, approve.Err);
        Assert.Contains("is now approved (1/1 approvals)", approve.Out, StringComparison.Ordinal);
        await gateway.ReviewInStatusAsync(review.Id, ReviewStatus.Executed);
        Assert.Equal("{\"amount\":512}", System.Text.Encoding.UTF8.GetString(upstream.Only().Body));
        Assert.Equal("corp:alice", Assert.Single((await gateway.Store.GetReviewAsync(review.Id, CancellationToken.None))!.Decisions).Subject);

        // A token given explicitly wins, and the saved one never goes to another gateway.
        var before = await File.ReadAllTextAsync(ProfilePath);
        var explicitToken = await CliProcess.RunAsync(new Dictionary<string, string>(Environment) { ["AIRLOCK_TOKEN"] = "not-a-token" }, "reviews", "list", "--admin-url", gateway.AdminUri.ToString());
        Assert.Equal(1, explicitToken.Exit);
        Assert.Contains("error: 401", explicitToken.Err, StringComparison.Ordinal);
        var elsewhere = await CliProcess.RunAsync(Environment, "reviews", "list", "--admin-url", "http://127.0.0.1:1/");
        Assert.Equal(2, elsewhere.Exit);
        Assert.Contains($"you are signed in to {gateway.AdminUri}, not http://127.0.0.1:1/", elsewhere.Err, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(ProfilePath));

        var lastRefresh = (string)ReadProfile()["refreshToken"]!;
        var logout = await CliProcess.RunAsync(Environment, "logout");
        outputs.Add(logout.Out + logout.Err);
        Assert.True(logout.Exit == 0, logout.Err);
        Assert.Contains("The identity provider revoked the refresh token.", logout.Out, StringComparison.Ordinal);
        Assert.False(File.Exists(ProfilePath));
        Assert.Equal("invalid_grant", await RefreshErrorAsync(lastRefresh));
        var signedOut = await CliProcess.RunAsync(Environment, "reviews", "list", "--admin-url", gateway.AdminUri.ToString());
        Assert.Equal(2, signedOut.Exit);
        Assert.Contains("or sign in first with `airlock login", signedOut.Err, StringComparison.Ordinal);

        // Tokens are never printed.
        foreach (var token in new[] { firstAccess, firstRefresh, secondAccess, lastRefresh })
        {
            Assert.All(outputs, output => Assert.DoesNotContain(token, output, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_sign_in_the_provider_will_not_renew_says_to_sign_in_again()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(Config(upstream.BaseUri, idp.Provider));
        var login = await SignInAsync(gateway.AdminUri, "bob");
        Assert.True(login.Exit == 0, login.Out + login.Err);
        var saved = ReadProfile();

        // Revoked at the provider (an administrator ended the session, say), then expired.
        using (var http = new HttpClient())
        using (var revoked = await http.PostAsync(idp.Provider.Issuer + "/token/revocation", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = DeviceFlowIdp.ClientId,
            ["token"] = (string)saved["refreshToken"]!,
            ["token_type_hint"] = "refresh_token",
        })))
        {
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        }

        await UntilRefusedAsync(gateway, (string)saved["accessToken"]!);
        var list = await CliProcess.RunAsync(Environment, "reviews", "list");
        Assert.Equal(1, list.Exit);
        Assert.Contains($"error: your sign-in to {gateway.AdminUri} has expired and the identity provider would not renew it (invalid_grant", list.Err, StringComparison.Ordinal);
        Assert.Contains("run `airlock login` again", list.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Declining_at_the_provider_ends_login_with_exit_code_3_and_saves_nothing()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(Config(upstream.BaseUri, idp.Provider));
        await using var cli = CliProcess.Start(Environment, "login", "--admin-url", gateway.AdminUri.ToString());
        var (link, code) = await PromptAsync(cli);
        using (var person = new DevicePerson("alice"))
        {
            await person.DeclineAsync(link, code);
        }

        var (exit, _, err) = await cli.ExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(3, exit);
        Assert.Contains("error: the sign-in was declined at the identity provider: nothing was saved", err, StringComparison.Ordinal);
        Assert.False(File.Exists(ProfilePath));
    }

    [Fact]
    public async Task A_code_nobody_enters_expires_with_exit_code_4_and_saves_nothing()
    {
        await using var provider = await DeviceFlowIdp.StartAsync(deviceCodeTtl: 2);
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(Config(upstream.BaseUri, provider));
        await using var cli = CliProcess.Start(Environment, "login", "--admin-url", gateway.AdminUri.ToString());
        await PromptAsync(cli);

        var (exit, _, err) = await cli.ExitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(4, exit);
        Assert.Contains("error: the code expired before the sign-in was finished", err, StringComparison.Ordinal);
        Assert.Contains("run `airlock login` again", err, StringComparison.Ordinal);
        Assert.False(File.Exists(ProfilePath));
    }

    [Fact]
    public async Task A_gateway_that_does_not_say_how_to_sign_in_needs_the_issuer_and_client_id()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(Config(upstream.BaseUri, idp.Provider, offerLogin: false));
        using (var offered = await gateway.Admin.GetAsync("/.well-known/airlock-login"))
        {
            Assert.Equal(HttpStatusCode.NotFound, offered.StatusCode);
        }

        var bare = await CliProcess.RunAsync(Environment, "login", "--admin-url", gateway.AdminUri.ToString());
        Assert.Equal(2, bare.Exit);
        Assert.Contains("does not say how to sign in (its configuration has no admin.login): give --issuer and --client-id", bare.Err, StringComparison.Ordinal);

        var unknown = await CliProcess.RunAsync(Environment, "login", "--admin-url", gateway.AdminUri.ToString(), "--issuer", idp.Provider.Issuer, "--client-id", "nobody");
        Assert.Equal(1, unknown.Exit);
        Assert.Contains("error: the identity provider refused to start a sign-in for client 'nobody': invalid_client", unknown.Err, StringComparison.Ordinal);

        var login = await SignInAsync(gateway.AdminUri, "alice", "--issuer", idp.Provider.Issuer, "--client-id", DeviceFlowIdp.ClientId);
        Assert.True(login.Exit == 0, login.Out + login.Err);
        Assert.Contains("as corp:alice", login.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_the_gateway_would_refuse_is_not_saved()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(Config(upstream.BaseUri, idp.Provider, audience: "urn:another-service"));
        var login = await SignInAsync(gateway.AdminUri, "alice");
        Assert.Equal(1, login.Exit);
        Assert.Contains($"error: you signed in at the provider, but the gateway at {gateway.AdminUri} refused the access token it issued: 401", login.Err, StringComparison.Ordinal);
        Assert.Contains("Nothing was saved.", login.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(ProfilePath));
    }

    [Fact]
    public async Task The_admin_listener_says_how_to_sign_in_without_a_token_and_who_a_token_belongs_to()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(Config(upstream.BaseUri, idp.Provider));
        var offered = JsonNode.Parse(await gateway.Admin.GetStringAsync("/.well-known/airlock-login"))!;
        Assert.Equal(idp.Provider.Issuer, (string?)offered["issuer"]);
        Assert.Equal(DeviceFlowIdp.ClientId, (string?)offered["clientId"]);
        Assert.Equal("[\"openid\",\"offline_access\"]", offered["scopes"]!.ToJsonString());

        using var anonymous = await gateway.Admin.GetAsync("/api/me");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var me = await gateway.AdminAsync(HttpMethod.Get, "/api/me", await idp.Provider.TokenAsync("admin"));
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        var caller = JsonNode.Parse(await me.Content.ReadAsStringAsync())!;
        Assert.Equal("corp:admin", (string?)caller["subject"]);
        Assert.Equal("[\"airlock-admins\"]", caller["groups"]!.ToJsonString());
        Assert.Equal("[]", caller["roles"]!.ToJsonString());
    }

    private async Task<(int Exit, string Out, string Err)> SignInAsync(Uri adminUri, string person, params string[] more)
    {
        await using var cli = CliProcess.Start(Environment, ["login", "--admin-url", adminUri.ToString(), .. more]);
        var (link, code) = await PromptAsync(cli);
        using (var browser = new DevicePerson(person))
        {
            await browser.SignInAsync(link, code);
        }

        return await cli.ExitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>What <c>airlock login</c> tells the person: the link that fills the code in, and the code.</summary>
    private static async Task<(Uri Link, string Code)> PromptAsync(CliProcess cli)
    {
        var open = await cli.LineAsync(line => line.StartsWith("To sign in, open ", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        var code = CodePattern().Match(open).Groups["code"].Value;
        var complete = await cli.LineAsync(line => line.StartsWith("(or open ", StringComparison.Ordinal), TimeSpan.FromSeconds(5));
        var link = LinkPattern().Match(complete).Groups["link"].Value;
        Assert.EndsWith("?user_code=" + code, link, StringComparison.Ordinal);
        return (new Uri(link), code);
    }

    private JsonObject ReadProfile() => JsonNode.Parse(File.ReadAllText(ProfilePath))!.AsObject();

    /// <summary>Waits until the gateway's admin API refuses the token (it has expired).</summary>
    private static Task<string> UntilRefusedAsync(TestGateway gateway, string accessToken) =>
        Eventually.GetAsync(async () =>
        {
            using var response = await gateway.AdminAsync(HttpMethod.Get, "/api/me", accessToken);
            return response.StatusCode == HttpStatusCode.Unauthorized ? response.Headers.WwwAuthenticate.ToString() : null;
        }, TimeSpan.FromSeconds(30), "the access token to expire");

    private async Task<string?> RefreshErrorAsync(string refreshToken)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync(idp.Provider.Issuer + "/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = DeviceFlowIdp.ClientId,
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = refreshToken,
        }));
        return (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"];
    }

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [GeneratedRegex(@"enter the code (?<code>\S+)$")]
    private static partial Regex CodePattern();

    [GeneratedRegex(@"^\(or open (?<link>\S+), which fills")]
    private static partial Regex LinkPattern();
}
