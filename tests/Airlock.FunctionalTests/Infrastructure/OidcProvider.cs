using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Airlock.FunctionalTests.Infrastructure;

/// <summary>
/// A real OpenID Connect provider (npm <c>oidc-provider</c>, tests/fixtures/oidc) in a child
/// process. Agents get JWT access tokens from it with the client-credentials grant, exactly
/// as they would from a production IdP.
/// </summary>
public sealed class OidcProvider : IAsyncDisposable
{
    public const string Audience = "urn:airlock";

    /// <summary>The clients every provider knows, with the groups put in their tokens.</summary>
    public static readonly IReadOnlyList<(string Id, string[] Groups)> Clients =
    [
        ("billing-agent", ["agents", "billing"]),
        ("report-agent", ["agents"]),
        ("alice", ["finance-approvers", "people"]),
        ("bob", ["finance-approvers", "people"]),
        ("carol", ["people"]),
        ("auditor", ["auditors"]),
        ("admin", ["airlock-admins"]),
    ];

    /// <summary>The people of a provider started with <c>people: true</c>, who sign in with its
    /// login form (the console), with their groups.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> People = new Dictionary<string, string[]>
    {
        ["alice"] = ["finance-approvers", "people"],
        ["bob"] = ["finance-approvers", "people"],
        ["carol"] = ["people"],
        ["audrey"] = ["auditors"],
        ["admin"] = ["airlock-admins"],
    };

    private readonly Process _process;
    private readonly HttpClient _http = new();

    private OidcProvider(Process process, string issuer)
    {
        _process = process;
        Issuer = issuer;
    }

    /// <summary>The issuer identifier, exactly as in the tokens' <c>iss</c> claim.</summary>
    public string Issuer { get; }

    public static string SecretOf(string clientId) => $"{clientId}-secret-0123456789abcdef0123456789";

    public static Task<OidcProvider> StartAsync() => StartAsync(people: false);

    /// <param name="environment">Further settings for provider.mjs, e.g. <c>AIRLOCK_TEST_DEVICE_FLOW</c>.</param>
    public static Task<OidcProvider> StartAsync(IReadOnlyDictionary<string, string>? environment) =>
        StartAsync(people: false, environment);

    /// <param name="people">Also serve people's sign-in (authorization code, PKCE, the login form)
    /// for <see cref="People"/>, with dynamic client registration for consoles.</param>
    /// <param name="environment">Further settings for provider.mjs, e.g. <c>AIRLOCK_TEST_DEVICE_FLOW</c>.</param>
    public static async Task<OidcProvider> StartAsync(bool people, IReadOnlyDictionary<string, string>? environment = null)
    {
        var directory = Repository.PathOf("tests", "fixtures", "oidc");
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "oidc-provider")))
        {
            throw new InvalidOperationException($"the test OIDC provider is not installed: run `npm ci` in {directory} (test.sh does this)");
        }

        var info = new ProcessStartInfo("node", "provider.mjs")
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["AIRLOCK_TEST_AUDIENCE"] = Audience;
        info.Environment["AIRLOCK_TEST_SIGNING"] = "1";
        info.Environment["AIRLOCK_TEST_CLIENTS"] = JsonSerializer.Serialize(
            Clients.Select(c => new { id = c.Id, secret = SecretOf(c.Id), groups = c.Groups }));
        if (people)
        {
            info.Environment["AIRLOCK_TEST_PEOPLE"] = JsonSerializer.Serialize(People);
            info.Environment["AIRLOCK_TEST_REGISTRATION"] = "1";
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start node");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
            ?? throw new InvalidOperationException("the OIDC provider exited before it was ready");
        var issuer = JsonNode.Parse(line)!["issuer"]!.GetValue<string>();
        return new OidcProvider(process, issuer);
    }

    /// <summary>Gets an access token the way an agent does: client credentials at the token endpoint.</summary>
    public async Task<string> TokenAsync(string clientId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Issuer + "/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["resource"] = Audience,
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{clientId}:{SecretOf(clientId)}")));
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"token request failed: {(int)response.StatusCode} {body}");
        }

        return JsonNode.Parse(body)!["access_token"]!.GetValue<string>();
    }

    /// <summary>Registers a console as a client (RFC 7591 dynamic registration), with its sign-in
    /// and sign-out callbacks at <paramref name="publicUrl"/>; returns its id and secret.</summary>
    public async Task<(string Id, string Secret)> RegisterConsoleAsync(Uri publicUrl)
    {
        var root = publicUrl.GetLeftPart(UriPartial.Authority);
        using var response = await _http.PostAsJsonAsync(Issuer + "/reg", new Dictionary<string, object>
        {
            ["redirect_uris"] = new[] { root + "/signin-oidc" },
            ["post_logout_redirect_uris"] = new[] { root + "/signout-callback-oidc" },
            ["grant_types"] = new[] { "authorization_code" },
            ["response_types"] = new[] { "code" },
            ["client_name"] = "Airlock console (test)",
        });
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"registering the console failed: {(int)response.StatusCode} {body}");
        }

        var client = JsonNode.Parse(body)!;
        return ((string)client["client_id"]!, (string)client["client_secret"]!);
    }

    /// <summary>Signs arbitrary claims with the provider's own key (test-only route): a token
    /// the provider could sign but would never issue, such as an expired one.</summary>
    public async Task<string> SignAsync(object payload, object? header = null)
    {
        using var response = await _http.PostAsJsonAsync(Issuer + "/test/sign", new { header = header ?? new { }, payload });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["token"]!.GetValue<string>();
    }

    /// <summary>The provider's public signing key, from its JWKS.</summary>
    public async Task<JsonObject> SigningKeyAsync()
    {
        var jwks = await _http.GetFromJsonAsync<JsonObject>(Issuer + "/jwks");
        return jwks!["keys"]!.AsArray()[0]!.AsObject();
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
