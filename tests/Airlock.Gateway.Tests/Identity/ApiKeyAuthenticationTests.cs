using Airlock.Gateway.Configuration;
using Airlock.Gateway.Identity;
using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Storage;
using Airlock.Gateway.Storage.Sqlite;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Airlock.Gateway.Tests.Identity;

/// <summary>
/// Agent API keys from the caller's side: keys made by <see cref="ApiKeyService"/> in a real
/// SQLite store, presented in <c>Authorization</c> and checked by the real ASP.NET
/// authentication handler, registered the way the gateway registers it. What a caller gets is
/// either an identity (subject, key, groups, owner) or a refusal with the reason the audit trail
/// records. Keys are looked up through the gateway's cache, as on the proxy. Only the clock is
/// the test's.
/// </summary>
public sealed class ApiKeyAuthenticationTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("airlock-keys-").FullName, "airlock.db");
    private SqliteStore _store = null!;
    private ServiceProvider _services = null!;
    private ApiKeyService _keys = null!;
    private readonly List<AsyncServiceScope> _requests = [];

    public async ValueTask InitializeAsync()
    {
        _store = new SqliteStore(_path, _time);
        await _store.MigrateAsync(CancellationToken.None);
        _services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IApiKeyStore>(_store)
            .AddSingleton<TimeProvider>(_time)
            .AddSingleton(new IdentityConfig(ApiKeys: true, Issuers: []))
            .AddAirlockIdentity(new IdentityConfig(ApiKeys: true, Issuers: []))
            .BuildServiceProvider();
        _keys = new ApiKeyService(_store, _time);
        // One check of the store's change marker, as the gateway makes at start: keys are then
        // served from the cache (the clock never moves here), so every test below goes through it.
        await _services.GetRequiredService<ApiKeyChangeWatcher>().CheckAsync(CancellationToken.None);
        Assert.True(_services.GetRequiredService<ApiKeyCache>().IsServable);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var request in _requests)
        {
            await request.DisposeAsync();
        }

        await _services.DisposeAsync();
        await _store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(_path)!, recursive: true);
    }

    private async Task<CreatedApiKey> CreateAsync(string name, string[]? groups = null, string? owner = null)
    {
        var (created, error) = await _keys.CreateAsync(name, groups ?? [], CancellationToken.None, owner);
        Assert.Null(error);
        return created!;
    }

    private DefaultHttpContext Request(params string[] authorization)
    {
        // Each request has its own services, as in ASP.NET: the handler keeps its result per request.
        var scope = _services.CreateAsyncScope();
        _requests.Add(scope);
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        if (authorization.Length > 0)
        {
            context.Request.Headers.Authorization = authorization;
        }

        return context;
    }

    /// <summary>What the API key scheme alone says about the request.</summary>
    private Task<AuthenticateResult> AuthenticateAsync(params string[] authorization) =>
        Request(authorization).AuthenticateAsync(ApiKeyAuthenticationHandler.SchemeName);

    /// <summary>What the proxy makes of the request: the identity, or the refusal it audits.</summary>
    private Task<Authentication> CallerAsync(params string[] authorization) =>
        _services.GetRequiredService<CallerAuthenticator>().AuthenticateAsync(Request(authorization), allowApiKeys: true);

    private static CredentialRejectedException Refusal(AuthenticateResult result)
    {
        Assert.False(result.Succeeded);
        Assert.Null(result.Principal);
        return Assert.IsType<CredentialRejectedException>(result.Failure);
    }

    [Fact]
    public async Task A_new_key_authenticates_as_its_name_with_its_groups_and_nothing_else()
    {
        var created = await CreateAsync("billing-agent", ["agents", "billing"]);

        var result = await AuthenticateAsync("Bearer " + created.Text);

        Assert.True(result.Succeeded, result.Failure?.Message);
        Assert.Equal("apikey", result.Ticket!.AuthenticationScheme);
        var principal = result.Principal!;
        Assert.Equal("key:billing-agent", principal.Identity!.Name);
        Assert.Equal("apikey", principal.Identity.AuthenticationType);
        Assert.True(principal.Identity.IsAuthenticated);
        Assert.True(principal.IsInRole("agents"));
        Assert.True(principal.IsInRole("billing"));
        Assert.False(principal.IsInRole("admins"));
        Assert.Equal(
            [("sub", "key:billing-agent"), ("airlock:key_id", created.Key.Id), ("airlock:key_name", "billing-agent"), ("airlock:group", "agents"), ("airlock:group", "billing")],
            principal.Claims.Select(c => (c.Type, c.Value)));
    }

    [Fact]
    public async Task The_proxy_sees_a_key_holder_as_the_key_with_its_groups()
    {
        var created = await CreateAsync("billing-agent", ["agents", "billing"]);

        var caller = await CallerAsync("Bearer " + created.Text);

        var identity = caller.Identity!;
        Assert.Null(caller.Failure);
        Assert.Equal(("key:billing-agent", "apikey", "airlock"), (identity.Subject, identity.AuthMethod, identity.Issuer));
        Assert.Equal(("billing-agent", created.Key.Id), (identity.KeyName, identity.KeyId));
        Assert.Equal(["agents", "billing"], identity.Groups.ToArray());
        Assert.Null(identity.Owner);
    }

    [Fact]
    public async Task A_key_with_many_groups_carries_every_one()
    {
        string[] groups = ["agents", "billing", "crm", "reports", "support"];
        var created = await CreateAsync("busy-agent", groups);

        var result = await AuthenticateAsync("Bearer " + created.Text);

        Assert.True(result.Succeeded, result.Failure?.Message);
        Assert.Equal(groups, result.Principal!.FindAll(ApiKeyAuthenticationHandler.GroupClaim).Select(c => c.Value));
    }

    [Fact]
    public async Task A_key_made_with_an_owner_names_that_person_so_they_cannot_approve_its_requests()
    {
        var created = await CreateAsync("billing-agent", ["agents"], owner: "corp:alice");

        var result = await AuthenticateAsync("Bearer " + created.Text);
        var caller = await CallerAsync("Bearer " + created.Text);

        Assert.True(result.Succeeded, result.Failure?.Message);
        Assert.Equal("corp:alice", result.Principal!.FindFirst(ApiKeyAuthenticationHandler.OwnerClaim)!.Value);
        Assert.Equal("corp:alice", caller.Identity!.Owner);
    }

    [Fact]
    public async Task A_key_without_groups_authenticates_with_none()
    {
        var created = await CreateAsync("lonely-agent");

        var result = await AuthenticateAsync("Bearer " + created.Text);

        Assert.True(result.Succeeded, result.Failure?.Message);
        Assert.Empty(result.Principal!.FindAll(ApiKeyAuthenticationHandler.GroupClaim));
        Assert.Null(result.Principal.FindFirst(ApiKeyAuthenticationHandler.OwnerClaim));
    }

    [Theory]
    [InlineData("bearer ")]
    [InlineData("BEARER ")]
    [InlineData("Bearer    ")]
    public async Task The_bearer_scheme_is_read_without_regard_to_case_or_extra_spaces(string prefix)
    {
        var created = await CreateAsync("billing-agent");

        var result = await AuthenticateAsync(prefix + created.Text + "  ");

        Assert.True(result.Succeeded, result.Failure?.Message);
    }

    [Fact]
    public async Task A_request_without_a_credential_is_left_to_other_schemes_not_refused()
    {
        await CreateAsync("billing-agent");

        var result = await AuthenticateAsync();

        Assert.True(result.None);
        Assert.Null(result.Failure);
        Assert.Null(result.Principal);
    }

    [Theory]
    [InlineData("Basic YWxpY2U6c2VjcmV0")]
    [InlineData("Token {0}")]
    [InlineData("{0}")]
    [InlineData("Bearer")]
    [InlineData("Bearer ")]
    public async Task A_credential_in_another_scheme_is_not_read_as_a_key(string authorization)
    {
        var created = await CreateAsync("billing-agent");

        var result = await AuthenticateAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, authorization, created.Text));

        Assert.True(result.None);
        Assert.Null(result.Principal);
    }

    [Fact]
    public async Task A_key_sent_twice_is_not_read_as_a_key()
    {
        var created = await CreateAsync("billing-agent");

        var result = await AuthenticateAsync("Bearer " + created.Text, "Bearer " + created.Text);

        Assert.True(result.None);
        Assert.Equal("several-credentials", (await CallerAsync("Bearer " + created.Text, "Bearer " + created.Text)).Reason);
    }

    [Theory]
    [InlineData("alk_short")]
    [InlineData("alk_0123456789ABCDEF_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("alk_0123456789abcdef-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("alk_0123456789abcdef_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("not-a-key-at-all")]
    public async Task A_malformed_key_is_refused_as_malformed(string token)
    {
        var result = await AuthenticateAsync("Bearer " + token);

        var refusal = Refusal(result);
        Assert.Equal("malformed-key", refusal.Reason);
        Assert.Equal("the API key is malformed", refusal.Message);
        Assert.Null(refusal.RevokedSubject);
    }

    [Fact]
    public async Task A_malformed_key_reaches_the_audit_trail_as_malformed()
    {
        var caller = await CallerAsync("Bearer alk_short");

        Assert.Null(caller.Identity);
        Assert.True(caller.InvalidToken);
        Assert.Equal(("malformed-key", "the API key is malformed"), (caller.Reason, caller.Failure));
    }

    [Fact]
    public async Task A_well_formed_key_that_was_never_made_is_unknown()
    {
        await CreateAsync("billing-agent");
        var (_, text, _) = ApiKeyFormat.Generate();

        var refusal = Refusal(await AuthenticateAsync("Bearer " + text));

        Assert.Equal("unknown-key", refusal.Reason);
        Assert.Equal("the API key is not known", refusal.Message);
        Assert.Null(refusal.RevokedSubject);
    }

    [Fact]
    public async Task A_known_key_id_with_a_wrong_secret_is_unknown_and_names_no_key()
    {
        var created = await CreateAsync("billing-agent");
        var wrong = created.Text[..^1] + (created.Text[^1] == 'A' ? 'B' : 'A');

        var refusal = Refusal(await AuthenticateAsync("Bearer " + wrong));
        var caller = await CallerAsync("Bearer " + wrong);

        Assert.Equal("unknown-key", refusal.Reason);
        Assert.Null(refusal.RevokedSubject);
        Assert.Equal(("unknown-key", "the API key is not known"), (caller.Reason, caller.Failure));
        Assert.Null(caller.RevokedSubject);
        Assert.Null(caller.Identity);
    }

    [Fact]
    public async Task One_key_s_id_with_another_key_s_secret_is_unknown()
    {
        var billing = await CreateAsync("billing-agent", ["billing"]);
        var crm = await CreateAsync("crm-agent", ["crm"]);
        var spliced = billing.Text[..21] + crm.Text[21..];

        Assert.True(ApiKeyFormat.TryParse(spliced, out var id, out _));
        Assert.Equal(billing.Key.Id, id);
        Assert.Equal("unknown-key", Refusal(await AuthenticateAsync("Bearer " + spliced)).Reason);
        Assert.Equal("unknown-key", Refusal(await AuthenticateAsync("Bearer " + crm.Text[..21] + billing.Text[21..])).Reason);
    }

    [Fact]
    public async Task A_revoked_key_is_refused_and_the_trail_names_the_key_whose_secret_was_right()
    {
        var created = await CreateAsync("billing-agent", ["billing"]);
        Assert.True((await AuthenticateAsync("Bearer " + created.Text)).Succeeded);

        Assert.NotNull(await _keys.RevokeAsync("billing-agent", CancellationToken.None));
        var refusal = Refusal(await AuthenticateAsync("Bearer " + created.Text));
        var caller = await CallerAsync("Bearer " + created.Text);

        Assert.Equal("revoked-key", refusal.Reason);
        Assert.Equal("the API key has been revoked", refusal.Message);
        Assert.Equal("key:billing-agent", refusal.RevokedSubject);
        Assert.Null(caller.Identity);
        Assert.Equal(("revoked-key", "the API key has been revoked", "key:billing-agent"), (caller.Reason, caller.Failure, caller.RevokedSubject));
    }

    [Fact]
    public async Task A_revoked_key_with_a_wrong_secret_is_unknown_and_does_not_name_the_key()
    {
        var created = await CreateAsync("billing-agent");
        await _keys.RevokeAsync(created.Key.Id, CancellationToken.None);
        var wrong = created.Text[..^1] + (created.Text[^1] == 'A' ? 'B' : 'A');

        var refusal = Refusal(await AuthenticateAsync("Bearer " + wrong));

        Assert.Equal("unknown-key", refusal.Reason);
        Assert.Null(refusal.RevokedSubject);
    }

    [Fact]
    public async Task A_key_made_again_under_a_revoked_name_is_a_new_key_and_the_old_one_stays_revoked()
    {
        var old = await CreateAsync("billing-agent", ["billing"]);
        await _keys.RevokeAsync("billing-agent", CancellationToken.None);
        var renewed = await CreateAsync("billing-agent", ["billing", "reports"]);

        var oldResult = await AuthenticateAsync("Bearer " + old.Text);
        var newResult = await AuthenticateAsync("Bearer " + renewed.Text);

        Assert.Equal("revoked-key", Refusal(oldResult).Reason);
        Assert.True(newResult.Succeeded, newResult.Failure?.Message);
        Assert.NotEqual(old.Key.Id, renewed.Key.Id);
        Assert.Equal(renewed.Key.Id, newResult.Principal!.FindFirst(ApiKeyAuthenticationHandler.KeyIdClaim)!.Value);
        Assert.Equal(["billing", "reports"], newResult.Principal.FindAll(ApiKeyAuthenticationHandler.GroupClaim).Select(c => c.Value));
    }
}
