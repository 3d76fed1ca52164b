using System.Collections.Immutable;
using Airlock.Cli;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Storage;
using Airlock.Gateway.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Airlock.FunctionalTests.Audit;

/// <summary><c>airlock audit keygen|checkpoint|verify|export</c> on a real SQLite store.</summary>
public sealed class AuditCliTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("airlock-audit-cli-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private string DatabasePath => Path.Combine(_directory, "airlock.db");

    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await AirlockCli.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A configuration with a store and a signing key made by <c>airlock audit keygen</c>.</summary>
    private async Task<string> ConfigWithKeyAsync()
    {
        var (exit, _, err) = await RunAsync("audit", "keygen", "--out", Path.Combine(_directory, "audit-key.pem"));
        Assert.True(exit == 0, err);
        var path = Path.Combine(_directory, "airlock.yaml");
        await File.WriteAllTextAsync(path, new GatewayConfig { Audit = "  signingKey: { file: ./audit-key.pem }" }
            .Connection("billing", new Uri("http://127.0.0.1:9")).ToYaml());
        return path;
    }

    /// <summary>Appends events an hour apart from <see cref="T0"/>, as the gateway would.</summary>
    private async Task AppendAsync(int count)
    {
        await using var store = new SqliteStore(DatabasePath, TimeProvider.System);
        await store.MigrateAsync(CancellationToken.None);
        var (existing, _) = await store.GetAuditHeadAsync(CancellationToken.None);
        for (var i = 0; i < count; i++)
        {
            await store.AppendAuditEventsAsync([new AuditEvent
            {
                At = T0.AddHours(existing + i),
                Kind = AuditKinds.RequestAllowed,
                Actor = new AuditActor("key:billing-agent", ["agents"], "apikey"),
                Target = new AuditTarget("billing", "GET", $"/billing/v1/invoices/{existing + i + 1}"),
                Rule = "reads",
                PolicyVersion = "sha256:policy",
                SessionId = Guid.NewGuid(),
                Outcome = "forwarded",
                Detail = ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal).Add("note", "a, \"quoted\" value"),
            }], CancellationToken.None);
        }
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var db = new SqliteConnection($"Data Source={DatabasePath};Pooling=false");
        await db.OpenAsync();
        var command = db.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Keygen_writes_an_owner_only_private_key_and_never_overwrites_one()
    {
        var key = Path.Combine(_directory, "signing.pem");

        var (exit, stdout, _) = await RunAsync("audit", "keygen", "--out", key);
        var again = await RunAsync("audit", "keygen", "--out", key);

        Assert.Equal(0, exit);
        Assert.Contains("Key id: sha256:", stdout, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        using var signer = AuditSigner.FromPrivatePem(await File.ReadAllTextAsync(key), out _);
        Assert.NotNull(signer);
        Assert.Equal(signer.PublicPem().Trim(), (await File.ReadAllTextAsync(Path.Combine(_directory, "signing.pub.pem"))).Trim());
        Assert.Equal(AirlockCli.InvalidInput, again.Exit);
        Assert.Contains("a signing key is never overwritten", again.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_creation_and_revocation_are_recorded_and_the_live_trail_verifies()
    {
        var config = await ConfigWithKeyAsync();
        Assert.Equal(0, (await RunAsync("keys", "create", "--config", config, "--name", "billing-agent", "--groups", "agents")).Exit);
        Assert.Equal(0, (await RunAsync("keys", "revoke", "--config", config, "billing-agent")).Exit);
        var signed = await RunAsync("audit", "checkpoint", "--config", config);

        var (exit, stdout, _) = await RunAsync("audit", "verify", "--config", config);

        Assert.Equal(0, signed.Exit);
        Assert.Equal(0, exit);
        Assert.Contains("Checked 2 events (1..2)", stdout, StringComparison.Ordinal);
        Assert.Contains("Using the public key of the configured signing key", stdout, StringComparison.Ordinal);
        Assert.Contains("checkpoint at event 2: signature valid, head hash matches", stdout, StringComparison.Ordinal);
        Assert.Contains("OK: the audit trail is intact.", stdout, StringComparison.Ordinal);
        await using var store = new SqliteStore(DatabasePath, TimeProvider.System);
        var events = await store.QueryAuditEventsAsync(new AuditQuery(), CancellationToken.None);
        Assert.Equal([AuditKinds.KeyCreated, AuditKinds.KeyRevoked], events.Select(e => e.Kind));
        Assert.All(events, e => Assert.Equal(("local", "billing-agent"), (e.Actor!.AuthMethod, e.Detail["name"])));
        Assert.StartsWith("local:", events[0].Actor!.Subject, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_names_the_edited_event_and_exits_1()
    {
        var config = await ConfigWithKeyAsync();
        await AppendAsync(5);
        await ExecuteAsync("UPDATE audit_events SET event = CAST(replace(CAST(event AS TEXT), 'invoices/3', 'invoices/4') AS BLOB) WHERE seq = 3");

        var (exit, stdout, _) = await RunAsync("audit", "verify", "--config", config);

        Assert.Equal(AirlockCli.Failure, exit);
        Assert.Contains("Checked 2 events (1..2)", stdout, StringComparison.Ordinal);
        Assert.Contains("FAILED at event 3: event 3 was changed", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("OK:", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_checkpoint_kept_elsewhere_exposes_a_truncated_tail_even_with_the_stores_checkpoints_gone()
    {
        var config = await ConfigWithKeyAsync();
        await AppendAsync(6);
        var (_, printed, _) = await RunAsync("audit", "checkpoint", "--config", config);
        var kept = Path.Combine(_directory, "kept-checkpoint.json");
        await File.WriteAllTextAsync(kept, printed);
        await ExecuteAsync("DELETE FROM audit_events WHERE seq > 4; DELETE FROM audit_checkpoints;");

        var withoutKept = await RunAsync("audit", "verify", "--config", config);
        var (exit, stdout, _) = await RunAsync("audit", "verify", "--config", config, "--checkpoint", kept,
            "--public-key", Path.Combine(_directory, "audit-key.pub.pem"));

        // The store alone cannot tell: the chain that is left is consistent, and says so loudly.
        Assert.Equal(0, withoutKept.Exit);
        Assert.Contains("warning: no checkpoint covers these events", withoutKept.Out, StringComparison.Ordinal);
        Assert.Equal(AirlockCli.Failure, exit);
        Assert.Contains("FAILED at event 5: the chain ends at event 4, but a checkpoint signed at", stdout, StringComparison.Ordinal);
        Assert.Contains("vouches for 6 events: the tail was truncated", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_export_holds_the_time_range_and_verifies_offline()
    {
        var config = await ConfigWithKeyAsync();
        await AppendAsync(3);
        Assert.Equal(0, (await RunAsync("audit", "checkpoint", "--config", config)).Exit);
        await AppendAsync(3);
        var bundle = Path.Combine(_directory, "bundle");

        // Events are an hour apart from 09:00: 10:00 up to (not including) 13:00 is events 2..4.
        var (exit, stdout, err) = await RunAsync("audit", "export", "--config", config, "--since", "2026-11-02T10:00:00Z",
            "--until", "2026-11-02T13:00:00Z", "--format", "csv", "--out", bundle);
        var verified = await RunAsync("audit", "verify", "--file", bundle, "--public-key", Path.Combine(_directory, "audit-key.pub.pem"));

        Assert.True(exit == 0, err);
        Assert.Contains("Exported events 2..4 (3 events", stdout, StringComparison.Ordinal);
        var lines = await File.ReadAllLinesAsync(Path.Combine(bundle, "events.jsonl"));
        Assert.Equal(3, lines.Length);
        Assert.All(lines, l => Assert.Contains("\"hash\":\"sha256:", l, StringComparison.Ordinal));
        Assert.Single(await File.ReadAllLinesAsync(Path.Combine(bundle, "checkpoints.jsonl")));
        var csv = await File.ReadAllLinesAsync(Path.Combine(bundle, "events.csv"));
        Assert.Equal(4, csv.Length);
        Assert.StartsWith("seq,at,kind,actor,", csv[0], StringComparison.Ordinal);
        Assert.Contains("\"{\"\"note\"\":\"\"a, \\\"\"quoted\\\"\" value\"\"}\"", csv[1], StringComparison.Ordinal);
        var manifest = Airlock.Gateway.Audit.Evidence.AuditExport.ReadManifest(Path.Combine(bundle, "manifest.json"));
        Assert.Equal((2L, 4L, 3L), (manifest.FirstSeq, manifest.LastSeq, manifest.Count));
        Assert.Equal(3, manifest.Files.Count);
        Assert.True(verified.Exit == 0, verified.Out + verified.Err);
        Assert.Contains("Checked 3 events (2..4)", verified.Out, StringComparison.Ordinal);
        Assert.Contains("checkpoint at event 3: signature valid, head hash matches", verified.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_a_key_rotation_old_and_new_checkpoints_verify_with_the_previous_public_key_configured()
    {
        var config = await ConfigWithKeyAsync();
        await AppendAsync(3);
        Assert.Equal(0, (await RunAsync("audit", "checkpoint", "--config", config)).Exit);
        Assert.Equal(0, (await RunAsync("audit", "keygen", "--out", Path.Combine(_directory, "audit-key-2.pem"))).Exit);
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config)).Replace(
            "  signingKey: { file: ./audit-key.pem }", "  signingKey: { file: ./audit-key-2.pem }\n  previousPublicKeys: ./audit-key.pub.pem", StringComparison.Ordinal));
        await AppendAsync(2);

        var signed = await RunAsync("audit", "checkpoint", "--config", config);
        var (exit, stdout, _) = await RunAsync("audit", "verify", "--config", config);

        Assert.True(signed.Exit == 0, signed.Err);
        Assert.Equal(0, exit);
        Assert.Contains("checkpoint at event 3: signature valid, head hash matches", stdout, StringComparison.Ordinal);
        Assert.Contains("checkpoint at event 5: signature valid, head hash matches", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_monthly_export_checked_against_a_later_checkpoint_notes_it_instead_of_failing()
    {
        var config = await ConfigWithKeyAsync();
        await AppendAsync(6);
        var (_, printed, _) = await RunAsync("audit", "checkpoint", "--config", config);
        var latest = Path.Combine(_directory, "latest-checkpoint.json");
        await File.WriteAllTextAsync(latest, printed);
        var bundle = Path.Combine(_directory, "early");
        Assert.Equal(0, (await RunAsync("audit", "export", "--config", config, "--until", "2026-11-02T12:00:00Z", "--out", bundle)).Exit);

        var (exit, stdout, _) = await RunAsync("audit", "verify", "--file", bundle, "--checkpoint", latest,
            "--public-key", Path.Combine(_directory, "audit-key.pub.pem"));

        Assert.Equal(0, exit);
        Assert.Contains("Checked 3 events (1..3)", stdout, StringComparison.Ordinal);
        Assert.Contains("checkpoint at event 6: after this export's last event; not checked", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_edited_export_fails_on_the_manifest_and_on_the_chain_when_the_manifest_is_fixed_too()
    {
        var config = await ConfigWithKeyAsync();
        await AppendAsync(4);
        var bundle = Path.Combine(_directory, "bundle");
        Assert.Equal(0, (await RunAsync("audit", "export", "--config", config, "--out", bundle)).Exit);
        var events = Path.Combine(bundle, "events.jsonl");
        await File.WriteAllTextAsync(events, (await File.ReadAllTextAsync(events)).Replace("invoices/2", "invoices/9", StringComparison.Ordinal));

        var manifestCaught = await RunAsync("audit", "verify", "--file", bundle);
        var manifestPath = Path.Combine(bundle, "manifest.json");
        var oldHash = Airlock.Gateway.Audit.Evidence.AuditExport.ReadManifest(manifestPath).Files["events.jsonl"];
        var newHash = await Airlock.Gateway.Audit.Evidence.AuditExport.HashFileAsync(events, CancellationToken.None);
        await File.WriteAllTextAsync(manifestPath, (await File.ReadAllTextAsync(manifestPath)).Replace(oldHash, newHash, StringComparison.Ordinal));
        var chainCaught = await RunAsync("audit", "verify", "--file", bundle);
        var bareFile = await RunAsync("audit", "verify", "--file", events);

        Assert.Equal(AirlockCli.Failure, manifestCaught.Exit);
        Assert.Contains("events.jsonl hashes to", manifestCaught.Out, StringComparison.Ordinal);
        Assert.Contains("the file was changed after export", manifestCaught.Out, StringComparison.Ordinal);
        Assert.Equal(AirlockCli.Failure, chainCaught.Exit);
        Assert.Contains("FAILED at event 2: event 2 was changed", chainCaught.Out, StringComparison.Ordinal);
        Assert.Equal(AirlockCli.Failure, bareFile.Exit);
        Assert.Contains("FAILED at event 2", bareFile.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--since", "last tuesday", "is not a time")]
    [InlineData("--format", "xml", "xml")]
    public async Task Export_refuses_bad_arguments(string option, string value, string message)
    {
        var config = await ConfigWithKeyAsync();

        var (exit, _, err) = await RunAsync("audit", "export", "--config", config, option, value, "--out", Path.Combine(_directory, "x"));

        Assert.NotEqual(0, exit);
        Assert.Contains(message, err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_directory, "x")));
    }

    [Fact]
    public async Task Export_never_writes_into_a_directory_that_holds_files()
    {
        var config = await ConfigWithKeyAsync();
        var bundle = Directory.CreateDirectory(Path.Combine(_directory, "taken")).FullName;
        await File.WriteAllTextAsync(Path.Combine(bundle, "events.jsonl"), "precious");

        var (exit, _, err) = await RunAsync("audit", "export", "--config", config, "--out", bundle);

        Assert.Equal(AirlockCli.InvalidInput, exit);
        Assert.Contains("is not empty", err, StringComparison.Ordinal);
        Assert.Equal("precious", await File.ReadAllTextAsync(Path.Combine(bundle, "events.jsonl")));
    }
}
