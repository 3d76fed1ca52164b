using System.Text;
using Airlock.Gateway.Audit;

namespace Airlock.FunctionalTests.Audit;

/// <summary>
/// Someone with write access to the database edits the audit trail behind the gateway's back,
/// with plain SQL; verification of the store finds it, at the right event, and says what
/// happened. Run against each real engine.
/// </summary>
public abstract class AuditTamperTests : IAsyncLifetime
{
    private const int Events = 30;
    private readonly (string PrivatePem, string PublicPem) _key = AuditSigner.Generate();

    private AuditDatabase _db = null!;

    private protected abstract Task<AuditDatabase> CreateDatabaseAsync();

    public async Task InitializeAsync()
    {
        _db = await CreateDatabaseAsync();
        await _db.WriteAsync(Events);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private Task<AuditVerification> VerifyAsync() => AuditStoreVerification.VerifyAsync(_db.Store, _key.PublicPem, CancellationToken.None);

    private async Task<AuditCheckpoint> CheckpointAsync()
    {
        using var service = AuditDatabase.CheckpointService(_db.Store, _key.PrivatePem);
        return (await service.CheckpointAsync(CancellationToken.None))!;
    }

    private async Task<List<StoredAuditEvent>> ReadChainAsync()
    {
        var chain = new List<StoredAuditEvent>();
        await foreach (var stored in _db.Store.ReadAuditChainAsync(1, CancellationToken.None))
        {
            chain.Add(stored);
        }

        return chain;
    }

    private static AuditBreak Broken(AuditVerification result)
    {
        Assert.False(result.Valid);
        return Assert.IsType<AuditBreak>(result.Break);
    }

    [Fact]
    public async Task The_untouched_chain_written_by_the_writer_verifies_with_its_signed_checkpoint()
    {
        var checkpoint = await CheckpointAsync();

        var result = await VerifyAsync();

        Assert.True(result.Valid, result.Break?.Problem);
        Assert.Equal(Events, result.Count);
        Assert.Equal(Events, checkpoint.Count);
        Assert.Equal(checkpoint.HeadHash, result.HeadHash);
        Assert.Equal([$"checkpoint at event {Events}: signature valid, head hash matches"], result.Checkpoints);
    }

    [Fact]
    public async Task A_field_edited_inside_an_event_is_reported_as_a_change_to_that_event()
    {
        Assert.Equal(1, await _db.SqlAsync(
            $"UPDATE audit_events SET event = {_db.ToBlob($"replace({_db.EventText}, '\"outcome\":\"allowed\"', '\"outcome\":\"denied\"')")} WHERE seq = 7"));

        var broken = Broken(await VerifyAsync());

        Assert.Equal(7, broken.Seq);
        Assert.Contains("event 7 was changed", broken.Problem, StringComparison.Ordinal);
        Assert.Contains("recorded hash", broken.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_edited_event_whose_hash_was_recomputed_breaks_the_link_from_the_next_event()
    {
        await _db.SqlAsync($"UPDATE audit_events SET event = {_db.ToBlob($"replace({_db.EventText}, '\"outcome\":\"allowed\"', '\"outcome\":\"denied\"')")} WHERE seq = 7");
        var edited = (await ReadChainAsync())[6];
        Assert.Equal(1, await _db.SqlAsync("UPDATE audit_events SET hash = @hash WHERE seq = 7", ("@hash", AuditChain.HashOf(edited.Canonical))));

        var broken = Broken(await VerifyAsync());

        Assert.Equal(8, broken.Seq);
        Assert.Contains("event 8 does not follow event 7", broken.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deleted_event_is_reported_missing()
    {
        Assert.Equal(1, await _db.SqlAsync("DELETE FROM audit_events WHERE seq = 12"));

        var broken = Broken(await VerifyAsync());

        Assert.Equal(12, broken.Seq);
        Assert.Contains("event 12 is missing: the chain goes from event 11 to event 13", broken.Problem, StringComparison.Ordinal);
        Assert.Contains("removed", broken.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deleted_event_with_the_rest_renumbered_is_reported_where_the_numbers_slip()
    {
        Assert.Equal(1, await _db.SqlAsync("DELETE FROM audit_events WHERE seq = 12"));
        await _db.SqlAsync("UPDATE audit_events SET seq = -seq WHERE seq > 12");
        await _db.SqlAsync("UPDATE audit_events SET seq = -seq - 1 WHERE seq < 0");

        var broken = Broken(await VerifyAsync());

        Assert.Equal(12, broken.Seq);
        Assert.Contains("event 12 holds the content of event 13", broken.Problem, StringComparison.Ordinal);
        Assert.Contains("removed", broken.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_forged_event_inserted_into_the_middle_is_found_even_when_it_links_correctly()
    {
        var chain = await ReadChainAsync();
        var (forged, canonical) = AuditChain.Seal([AuditDatabase.Request("/billing/v1/refunds/forged") with { At = chain[9].At }], 10, chain[9].Hash).Single();
        await _db.SqlAsync("UPDATE audit_events SET seq = -seq WHERE seq > 10");
        await _db.SqlAsync("UPDATE audit_events SET seq = 1 - seq WHERE seq < 0");
        Assert.Equal(1, await _db.SqlAsync("""
            INSERT INTO audit_events (seq, at, kind, actor, connection, event, prev_hash, hash)
            VALUES (@seq, @at, @kind, @actor, @connection, @event, @prev, @hash)
            """, ("@seq", forged.Seq), ("@at", _db.AtValue(forged.At)), ("@kind", forged.Kind), ("@actor", forged.Actor!.Subject),
            ("@connection", forged.Target!.Connection!), ("@event", canonical), ("@prev", forged.PrevHash), ("@hash", forged.Hash)));

        var broken = Broken(await VerifyAsync());

        Assert.Equal(12, broken.Seq);
        Assert.Contains("event 12 holds the content of event 11", broken.Problem, StringComparison.Ordinal);
        Assert.Contains("inserted", broken.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_forged_event_appended_at_the_end_with_a_made_up_link_is_found()
    {
        var (forged, canonical) = AuditChain.Seal([AuditDatabase.Request("/billing/v1/refunds/forged")], Events, "sha256:" + new string('e', 64)).Single();
        Assert.Equal(1, await _db.SqlAsync("""
            INSERT INTO audit_events (seq, at, kind, actor, connection, event, prev_hash, hash)
            VALUES (@seq, @at, @kind, @actor, @connection, @event, @prev, @hash)
            """, ("@seq", forged.Seq), ("@at", _db.AtValue(forged.At)), ("@kind", forged.Kind), ("@actor", forged.Actor!.Subject),
            ("@connection", forged.Target!.Connection!), ("@event", canonical), ("@prev", forged.PrevHash), ("@hash", forged.Hash)));

        var broken = Broken(await VerifyAsync());

        Assert.Equal(Events + 1, broken.Seq);
        Assert.Contains($"event {Events + 1} does not follow event {Events}", broken.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_events_that_swapped_places_are_reported_at_the_first()
    {
        await _db.SqlAsync("UPDATE audit_events SET seq = -1 WHERE seq = 5");
        await _db.SqlAsync("UPDATE audit_events SET seq = 5 WHERE seq = 20");
        await _db.SqlAsync("UPDATE audit_events SET seq = 20 WHERE seq = -1");

        var broken = Broken(await VerifyAsync());

        Assert.Equal(5, broken.Seq);
        Assert.Contains("event 5 holds the content of event 20", broken.Problem, StringComparison.Ordinal);
        Assert.Contains("reordered", broken.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_edited_search_column_is_found_although_the_hashed_event_is_intact()
    {
        Assert.Equal(1, await _db.SqlAsync("UPDATE audit_events SET kind = 'request.denied' WHERE seq = 3"));

        var broken = Broken(await VerifyAsync());

        Assert.Equal(3, broken.Seq);
        Assert.Contains("searchable columns", broken.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tail_deleted_after_a_checkpoint_is_reported_as_truncated()
    {
        await CheckpointAsync();
        Assert.Equal(6, await _db.SqlAsync("DELETE FROM audit_events WHERE seq > 24"));

        var broken = Broken(await VerifyAsync());

        Assert.Equal(25, broken.Seq);
        Assert.Contains("the chain ends at event 24, but a checkpoint signed at", broken.Problem, StringComparison.Ordinal);
        Assert.Contains($"vouches for {Events} events: the tail was truncated", broken.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("copied from an earlier checkpoint")]
    [InlineData("made over the same checkpoint with another key")]
    public async Task A_checkpoint_signature_replaced_by_another_valid_looking_one_is_refused(string replacement)
    {
        var early = await CheckpointAsync();
        await _db.WriteAsync(10, "/billing/v1/more/");
        var late = await CheckpointAsync();
        Assert.Equal(Events + 10, late.Count);
        var (otherKey, _) = AuditSigner.Generate();
        using var other = AuditSigner.FromPrivatePem(otherKey, out _)!;
        var signature = replacement.StartsWith("copied", StringComparison.Ordinal)
            ? early.Signature
            : other.Sign(late.Count, late.HeadHash, late.At).Signature;
        Assert.Equal(late.Signature.Length, signature.Length);

        Assert.Equal(1, await _db.SqlAsync("UPDATE audit_checkpoints SET signature = @signature WHERE count = @count", ("@signature", signature), ("@count", late.Count)));

        var broken = Broken(await VerifyAsync());

        Assert.Equal(Events + 10, broken.Seq);
        Assert.Contains($"checkpoint at event {Events + 10}: the signature does not match the checkpoint", broken.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_whole_chain_rewritten_with_recomputed_hashes_is_exposed_by_the_signed_checkpoint()
    {
        await CheckpointAsync();
        var chain = await ReadChainAsync();
        var rewritten = AuditChain.Seal(
            [.. chain.Skip(9).Select(s => AuditChain.Parse(s.Canonical, s.Hash)).Select(e => e.Seq == 10 ? e with { Outcome = "denied" } : e)],
            9, chain[8].Hash);
        foreach (var (e, canonical) in rewritten)
        {
            Assert.Equal(1, await _db.SqlAsync("UPDATE audit_events SET event = @event, hash = @hash, prev_hash = @prev WHERE seq = @seq",
                ("@event", canonical), ("@hash", e.Hash), ("@prev", e.PrevHash), ("@seq", e.Seq)));
        }

        // Every link holds: without the checkpoint the rewrite would pass.
        var linksOnly = new AuditVerifier([], null);
        foreach (var stored in await ReadChainAsync())
        {
            Assert.True(linksOnly.Add(stored));
        }

        Assert.True(linksOnly.Complete().Valid);
        Assert.Contains("\"outcome\":\"denied\"", Encoding.UTF8.GetString((await ReadChainAsync())[9].Canonical), StringComparison.Ordinal);

        var broken = Broken(await VerifyAsync());

        Assert.Equal(Events, broken.Seq);
        Assert.Contains($"event {Events} hashes to {rewritten[^1].Event.Hash}, but the checkpoint signed at", broken.Problem, StringComparison.Ordinal);
        Assert.Contains($"says {chain[^1].Hash}: the chain was rewritten", broken.Problem, StringComparison.Ordinal);

        // Moving the checkpoint to the new head needs the signing key.
        Assert.Equal(1, await _db.SqlAsync("UPDATE audit_checkpoints SET head_hash = @head", ("@head", rewritten[^1].Event.Hash)));
        var again = Broken(await VerifyAsync());
        Assert.Equal(Events, again.Seq);
        Assert.Contains("the signature does not match the checkpoint", again.Problem, StringComparison.Ordinal);
    }
}

public sealed class SqliteAuditTamperTests : AuditTamperTests
{
    private protected override Task<AuditDatabase> CreateDatabaseAsync() => SqliteAuditDatabase.CreateAsync();
}

public sealed class PostgresAuditTamperTests : AuditTamperTests
{
    private protected override Task<AuditDatabase> CreateDatabaseAsync() => PostgresAuditDatabase.CreateAsync();
}
