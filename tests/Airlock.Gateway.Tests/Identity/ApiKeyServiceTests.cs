using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Airlock.Gateway.Tests.Identity;

/// <summary>
/// Making, listing and revoking agent keys (what <c>airlock keys</c> does), against a real
/// SQLite store in a temp file: what is refused and why, what is stored, and that the key text
/// shown once is the one that works. Only the clock is the test's.
/// </summary>
public sealed class ApiKeyServiceTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(T0);
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("airlock-keys-").FullName, "airlock.db");
    private SqliteStore _store = null!;
    private ApiKeyService _keys = null!;

    public async ValueTask InitializeAsync()
    {
        _store = new SqliteStore(_path, _time);
        await _store.MigrateAsync(CancellationToken.None);
        _keys = new ApiKeyService(_store, _time);
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(_path)!, recursive: true);
    }

    private Task<(CreatedApiKey? Created, string? Error)> CreateAsync(string name, string[]? groups = null, string? owner = null) =>
        _keys.CreateAsync(name, groups ?? [], CancellationToken.None, owner);

    [Fact]
    public async Task A_created_key_is_stored_with_its_name_groups_owner_and_time_but_not_its_secret()
    {
        var (created, error) = await CreateAsync("billing-agent", ["agents", "billing"], owner: "corp:alice");

        Assert.Null(error);
        var key = created!.Key;
        Assert.StartsWith($"alk_{key.Id}_", created.Text, StringComparison.Ordinal);
        Assert.Equal(ApiKeyFormat.Length, created.Text.Length);
        var stored = await _store.FindApiKeyAsync(key.Id, CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal(("billing-agent", "corp:alice", T0, (DateTimeOffset?)null), (stored.Name, stored.Owner, stored.CreatedAt, stored.RevokedAt));
        Assert.Equal(["agents", "billing"], stored.Groups.ToArray());
        Assert.False(stored.IsRevoked);
        Assert.Equal(key.SecretHash.ToArray(), stored.SecretHash.ToArray());
        Assert.True(ApiKeyFormat.TryParse(created.Text, out _, out var secret));
        Assert.True(ApiKeyFormat.Matches(secret, stored.SecretHash.Span));
        var secretText = secret.ToString();
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(_path)!))
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (FileNotFoundException)
            {
                // SQLite removed its -shm (or a checkpointed -wal) after the listing: what the
                // WAL held is in the database file now, which is read here too.
                continue;
            }

            Assert.DoesNotContain(secretText, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_key_returned_is_the_key_stored()
    {
        _time.Advance(TimeSpan.FromMinutes(5));
        var (created, _) = await CreateAsync("billing-agent", ["billing"]);

        var key = created!.Key;
        Assert.Equal(("billing-agent", T0.AddMinutes(5), (DateTimeOffset?)null, (string?)null), (key.Name, key.CreatedAt, key.RevokedAt, key.Owner));
        Assert.Equal(["billing"], key.Groups.ToArray());
        var listed = Assert.Single(await _keys.ListAsync(includeRevoked: false, CancellationToken.None));
        Assert.Equal((key.Id, key.Name, key.CreatedAt), (listed.Id, listed.Name, listed.CreatedAt));
        Assert.Null(listed.Owner);
    }

    [Fact]
    public async Task Groups_are_trimmed_blank_ones_dropped_and_repeats_kept_once_in_order()
    {
        var (created, error) = await CreateAsync("billing-agent", [" billing", "agents ", "", "   ", "billing", "Billing"]);

        Assert.Null(error);
        Assert.Equal(["billing", "agents", "Billing"], created!.Key.Groups.ToArray());
        Assert.Equal(["billing", "agents", "Billing"], (await _store.FindApiKeyAsync(created.Key.Id, CancellationToken.None))!.Groups.ToArray());
    }

    [Theory]
    [InlineData("billing,admins")]
    [InlineData("bill\ning")]
    [InlineData("admins\u0000")]
    [InlineData("\u007f")]
    public async Task A_group_with_a_comma_or_a_control_character_is_refused_and_no_key_is_made(string group)
    {
        var (created, error) = await CreateAsync("billing-agent", ["agents", group]);

        Assert.Null(created);
        Assert.Equal($"'{group.Trim()}' is not a valid group name", error);
        Assert.Empty(await _keys.ListAsync(includeRevoked: true, CancellationToken.None));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Billing")]
    [InlineData("billing agent")]
    [InlineData("-billing")]
    [InlineData("key:billing")]
    public async Task A_name_that_is_not_a_key_name_is_refused(string name)
    {
        var (created, error) = await CreateAsync(name);

        Assert.Null(created);
        Assert.Equal($"'{name}' is not a valid key name: use lowercase letters, digits and '-', at most 63 characters", error);
        Assert.Empty(await _keys.ListAsync(includeRevoked: true, CancellationToken.None));
    }

    [Theory]
    [InlineData("alice")]
    [InlineData(":alice")]
    [InlineData("corp:")]
    [InlineData("key:billing-agent")]
    [InlineData("")]
    public async Task An_owner_that_is_not_a_person_s_subject_is_refused(string owner)
    {
        var (created, error) = await CreateAsync("billing-agent", owner: owner);

        Assert.Null(created);
        Assert.Equal($"'{owner}' is not a person's subject; write <issuer>:<sub>, e.g. corp:alice", error);
        Assert.Empty(await _keys.ListAsync(includeRevoked: true, CancellationToken.None));
    }

    [Theory]
    [InlineData("corp:alice")]
    [InlineData("c:a")]
    [InlineData("https://login.example.com:alice")]
    [InlineData("corp:key:alice")]
    public async Task An_owner_written_issuer_colon_sub_is_accepted(string owner)
    {
        var (created, error) = await CreateAsync("billing-agent", owner: owner);

        Assert.Null(error);
        Assert.Equal(owner, created!.Key.Owner);
    }

    [Fact]
    public async Task A_second_active_key_with_the_same_name_is_refused_until_the_first_is_revoked()
    {
        var (first, _) = await CreateAsync("billing-agent");

        var (duplicate, error) = await CreateAsync("billing-agent", ["other"]);

        Assert.Null(duplicate);
        Assert.Equal("an active key named 'billing-agent' already exists; revoke it first or choose another name", error);
        Assert.Equal([first!.Key.Id], (await _keys.ListAsync(includeRevoked: true, CancellationToken.None)).Select(k => k.Id));

        await _keys.RevokeAsync("billing-agent", CancellationToken.None);
        var (again, againError) = await CreateAsync("billing-agent");
        Assert.Null(againError);
        Assert.NotEqual(first.Key.Id, again!.Key.Id);
    }

    [Fact]
    public async Task Revoking_by_name_or_id_stamps_the_time_and_hides_the_key_from_the_active_list()
    {
        var (billing, _) = await CreateAsync("billing-agent");
        var (crm, _) = await CreateAsync("crm-agent");
        var (reports, _) = await CreateAsync("reports-agent");
        _time.Advance(TimeSpan.FromHours(2));

        var byName = await _keys.RevokeAsync("billing-agent", CancellationToken.None);
        var byId = await _keys.RevokeAsync(crm!.Key.Id, CancellationToken.None);

        Assert.Equal((billing!.Key.Id, T0.AddHours(2)), (byName!.Id, byName.RevokedAt));
        Assert.True(byName.IsRevoked);
        Assert.Equal(("crm-agent", T0.AddHours(2)), (byId!.Name, byId.RevokedAt));
        Assert.Equal([reports!.Key.Id], (await _keys.ListAsync(includeRevoked: false, CancellationToken.None)).Select(k => k.Id));
        var all = await _keys.ListAsync(includeRevoked: true, CancellationToken.None);
        Assert.Equal(3, all.Count);
        Assert.Equal(T0.AddHours(2), all.Single(k => k.Id == billing.Key.Id).RevokedAt);
    }

    [Fact]
    public async Task Revoking_a_key_that_is_not_active_finds_nothing()
    {
        await CreateAsync("billing-agent");
        await _keys.RevokeAsync("billing-agent", CancellationToken.None);

        Assert.Null(await _keys.RevokeAsync("billing-agent", CancellationToken.None));
        Assert.Null(await _keys.RevokeAsync("no-such-agent", CancellationToken.None));
    }
}
