using System.Text;
using Airlock.Gateway.Audit;

namespace Airlock.Gateway.Tests.Audit;

/// <summary>Every kind of tampering, on chains held in memory, is found at the right event and named.</summary>
public sealed class AuditVerifierTests : IDisposable
{
    private readonly AuditSigner _signer;
    private readonly string _publicPem;

    public AuditVerifierTests()
    {
        var (privatePem, publicPem) = AuditSigner.Generate();
        _signer = AuditSigner.FromPrivatePem(privatePem, out _)!;
        _publicPem = publicPem;
    }

    public void Dispose() => _signer.Dispose();

    private AuditCheckpoint CheckpointAt(List<StoredAuditEvent> chain, int count) => _signer.Sign(count, chain[count - 1].Hash, TestChain.T0.AddHours(1));

    private static StoredAuditEvent WithContent(StoredAuditEvent stored, string from, string to)
    {
        var text = Encoding.UTF8.GetString(stored.Canonical);
        Assert.Contains(from, text, StringComparison.Ordinal);
        return stored with { Canonical = Encoding.UTF8.GetBytes(text.Replace(from, to, StringComparison.Ordinal)) };
    }

    [Fact]
    public void An_intact_chain_with_signed_checkpoints_verifies()
    {
        var chain = TestChain.Build(50);

        var result = TestChain.Verify(chain, [CheckpointAt(chain, 20), CheckpointAt(chain, 50)], _publicPem);

        Assert.True(result.Valid, result.Break?.Problem);
        Assert.Null(result.Break);
        Assert.Equal(50, result.Count);
        Assert.Equal(chain[^1].Hash, result.HeadHash);
        Assert.Equal(["checkpoint at event 20: signature valid, head hash matches", "checkpoint at event 50: signature valid, head hash matches"], result.Checkpoints);
    }

    [Fact]
    public void An_empty_chain_verifies_with_the_genesis_as_its_head()
    {
        var result = TestChain.Verify([]);

        Assert.True(result.Valid);
        Assert.Equal(0, result.Count);
        Assert.Equal(AuditChain.Genesis, result.HeadHash);
    }

    [Fact]
    public void A_modified_event_is_found_by_its_hash()
    {
        var chain = TestChain.Build(10);
        chain[4] = WithContent(chain[4], "\"outcome\":\"allowed\"", "\"outcome\":\"denied\"");

        var result = TestChain.Verify(chain);

        Assert.False(result.Valid);
        Assert.Equal(5, result.Break!.Seq);
        Assert.Contains("event 5 was changed", result.Break.Problem, StringComparison.Ordinal);
        Assert.Contains(chain[4].Hash, result.Break.Problem, StringComparison.Ordinal);
        Assert.Equal(4, result.Count);
    }

    [Fact]
    public void A_modified_event_whose_hash_was_recomputed_breaks_the_next_link()
    {
        var chain = TestChain.Build(10);
        var edited = WithContent(chain[4], "\"outcome\":\"allowed\"", "\"outcome\":\"denied\"");
        chain[4] = edited with { Hash = AuditChain.HashOf(edited.Canonical) };

        var result = TestChain.Verify(chain);

        Assert.Equal(6, result.Break!.Seq);
        Assert.Contains("event 6 does not follow event 5", result.Break.Problem, StringComparison.Ordinal);
        Assert.Contains("changed", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_edit_that_is_not_canonical_json_is_named_as_an_edit()
    {
        var chain = TestChain.Build(5);
        chain[2] = WithContent(chain[2], "\"kind\":", "\"kind\": ");

        var result = TestChain.Verify(chain);

        Assert.Equal(3, result.Break!.Seq);
        Assert.Contains("not in its canonical form", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Bytes_that_are_not_an_event_are_named_as_an_edit()
    {
        var chain = TestChain.Build(5);
        chain[1] = chain[1] with { Canonical = "{\"seq\":2,"u8.ToArray() };

        var result = TestChain.Verify(chain);

        Assert.Equal(2, result.Break!.Seq);
        Assert.Contains("event 2 is not a readable audit event", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_deleted_event_is_reported_missing()
    {
        var chain = TestChain.Build(10);
        chain.RemoveAt(6);

        var result = TestChain.Verify(chain);

        Assert.Equal(7, result.Break!.Seq);
        Assert.Contains("event 7 is missing", result.Break.Problem, StringComparison.Ordinal);
        Assert.Contains("removed", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_deleted_first_event_is_reported_missing()
    {
        var chain = TestChain.Build(3);
        chain.RemoveAt(0);

        var result = TestChain.Verify(chain);

        Assert.Equal(1, result.Break!.Seq);
        Assert.Contains("event 1 is missing", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_event_inserted_with_a_correct_link_and_the_rest_renumbered_is_found_where_the_old_content_moved()
    {
        var chain = TestChain.Build(10);
        var forged = TestChain.Reseal([TestChain.Event(99, outcome: "approved")], 4, chain[3].Hash).Single();
        var tampered = chain.Take(4).Append(forged).Concat(chain.Skip(4).Select(s => s with { Seq = s.Seq + 1 })).ToList();

        var result = TestChain.Verify(tampered);

        Assert.Equal(6, result.Break!.Seq);
        Assert.Contains("event 6 holds the content of event 5", result.Break.Problem, StringComparison.Ordinal);
        Assert.Contains("inserted", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_event_inserted_under_an_existing_number_is_reported()
    {
        var chain = TestChain.Build(10);
        chain.Insert(5, TestChain.Reseal([TestChain.Event(99)], 4, chain[3].Hash).Single());

        var result = TestChain.Verify(chain);

        Assert.Equal(6, result.Break!.Seq);
        Assert.Contains("event 5 appears again after event 5", result.Break.Problem, StringComparison.Ordinal);
        Assert.Contains("inserted", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_forged_event_appended_with_a_made_up_link_is_found()
    {
        var chain = TestChain.Build(10);
        chain.AddRange(TestChain.Reseal([TestChain.Event(11)], 10, AuditChain.Genesis));

        var result = TestChain.Verify(chain);

        Assert.Equal(11, result.Break!.Seq);
        Assert.Contains("event 11 does not follow event 10", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_events_whose_contents_were_swapped_are_reported_as_reordered()
    {
        var chain = TestChain.Build(10);
        (chain[2], chain[6]) = (chain[6] with { Seq = 3 }, chain[2] with { Seq = 7 });

        var result = TestChain.Verify(chain);

        Assert.Equal(3, result.Break!.Seq);
        Assert.Contains("event 3 holds the content of event 7", result.Break.Problem, StringComparison.Ordinal);
        Assert.Contains("reordered", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Events_read_out_of_order_are_reported_at_the_first_position_out_of_place()
    {
        var chain = TestChain.Build(10);
        (chain[2], chain[3]) = (chain[3], chain[2]);

        var result = TestChain.Verify(chain);

        Assert.Equal(3, result.Break!.Seq);
        Assert.Contains("event 3 is missing", result.Break.Problem, StringComparison.Ordinal);
        Assert.Contains("reordered", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_edited_searchable_column_is_found_even_though_the_hashed_content_is_intact()
    {
        var chain = TestChain.Build(5);
        chain[3] = chain[3] with { Kind = AuditKinds.RequestDenied };

        var result = TestChain.Verify(chain);

        Assert.Equal(4, result.Break!.Seq);
        Assert.Contains("searchable columns", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_first_event_that_does_not_start_from_the_genesis_is_reported()
    {
        var chain = TestChain.Reseal(Enumerable.Range(1, 3).Select(i => TestChain.Event(i)), 0, "sha256:" + new string('1', 64));

        var result = TestChain.Verify(chain);

        Assert.Equal(1, result.Break!.Seq);
        Assert.Contains("event 1 does not start the chain", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tail_truncated_below_a_signed_checkpoint_is_reported_where_it_ends()
    {
        var chain = TestChain.Build(30);
        var checkpoint = CheckpointAt(chain, 30);

        Assert.True(TestChain.Verify(chain, [checkpoint], _publicPem).Valid);
        var result = TestChain.Verify(chain.Take(25), [checkpoint], _publicPem);

        Assert.False(result.Valid);
        Assert.Equal(26, result.Break!.Seq);
        Assert.Contains("the chain ends at event 25", result.Break.Problem, StringComparison.Ordinal);
        Assert.Contains("vouches for 30 events", result.Break.Problem, StringComparison.Ordinal);
        Assert.Contains("truncated", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tail_truncated_after_the_last_checkpoint_cannot_be_seen_which_is_why_checkpoints_are_signed_often()
    {
        var chain = TestChain.Build(30);

        var result = TestChain.Verify(chain.Take(25), [CheckpointAt(chain, 20)], _publicPem);

        Assert.True(result.Valid);
        Assert.Equal(25, result.Count);
    }

    [Fact]
    public void A_chain_rewritten_with_recomputed_hashes_is_exposed_by_the_checkpoint()
    {
        var chain = TestChain.Build(30);
        var checkpoint = CheckpointAt(chain, 20);
        var rewritten = chain.Take(11).Concat(TestChain.Reseal(
            chain.Skip(11).Select(s => TestChain.Parse(s) with { Outcome = s.Seq == 12 ? "denied" : "allowed" }), 11, chain[10].Hash)).ToList();

        // The links alone cannot tell: every hash was recomputed.
        Assert.True(TestChain.Verify(rewritten).Valid);
        var result = TestChain.Verify(rewritten, [checkpoint], _publicPem);

        Assert.False(result.Valid);
        Assert.Equal(20, result.Break!.Seq);
        Assert.Contains($"event 20 hashes to {rewritten[19].Hash}", result.Break.Problem, StringComparison.Ordinal);
        Assert.Contains($"says {chain[19].Hash}", result.Break.Problem, StringComparison.Ordinal);
        Assert.Contains("rewritten", result.Break.Problem, StringComparison.Ordinal);
        Assert.Empty(result.Checkpoints);
    }

    [Fact]
    public void A_checkpoint_rewritten_to_match_a_rewritten_chain_fails_its_signature()
    {
        var chain = TestChain.Build(20);
        var rewritten = TestChain.Build(20, i => TestChain.Event(i, outcome: "denied"));
        var forged = CheckpointAt(chain, 20) with { HeadHash = rewritten[^1].Hash };

        var result = TestChain.Verify(rewritten, [forged], _publicPem);

        Assert.Equal(20, result.Break!.Seq);
        Assert.Contains("checkpoint at event 20", result.Break.Problem, StringComparison.Ordinal);
        Assert.Contains("signature does not match", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_signature_taken_from_another_checkpoint_does_not_verify()
    {
        var chain = TestChain.Build(20);
        var early = CheckpointAt(chain, 10);
        var late = CheckpointAt(chain, 20) with { Signature = early.Signature };

        var result = TestChain.Verify(chain, [early, late], _publicPem);

        Assert.Equal(20, result.Break!.Seq);
        Assert.Contains("checkpoint at event 20: the signature does not match", result.Break.Problem, StringComparison.Ordinal);
        // Only the checkpoint that did verify says so; the forged one is not also noted as valid.
        Assert.Equal(["checkpoint at event 10: signature valid, head hash matches"], result.Checkpoints);
    }

    [Fact]
    public void A_checkpoint_signed_by_another_key_is_refused_by_key_id()
    {
        var chain = TestChain.Build(10);
        using var other = AuditSigner.FromPrivatePem(AuditSigner.Generate().PrivatePem, out _)!;

        var result = TestChain.Verify(chain, [other.Sign(10, chain[^1].Hash, TestChain.T0)], _publicPem);

        Assert.Equal(10, result.Break!.Seq);
        Assert.Contains($"signed by key {other.KeyId}, not by this public key ({_signer.KeyId})", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_public_key_the_head_hash_is_still_checked_and_the_note_says_the_signature_was_not()
    {
        var chain = TestChain.Build(10);
        var checkpoint = CheckpointAt(chain, 10) with { Signature = "AAAA" };

        var result = TestChain.Verify(chain, [checkpoint]);

        Assert.True(result.Valid);
        Assert.Equal(["checkpoint at event 10: head hash matches (signature not checked: no public key given)"], result.Checkpoints);
        Assert.False(TestChain.Verify(chain, [checkpoint with { HeadHash = chain[8].Hash }]).Valid);
    }

    [Fact]
    public void A_partial_export_verifies_from_its_first_event_taking_that_event_s_link_on_trust()
    {
        var chain = TestChain.Build(40);
        var export = chain.Skip(14).ToList();

        var result = TestChain.Verify(export, [CheckpointAt(chain, 10), CheckpointAt(chain, 30)], _publicPem, firstSeq: 15, prevHash: null);

        Assert.True(result.Valid, result.Break?.Problem);
        Assert.Equal(15, result.FirstSeq);
        Assert.Equal(26, result.Count);
        Assert.Equal(chain[^1].Hash, result.HeadHash);
        Assert.Equal(["checkpoint at event 10: before this export's first event; not checked", "checkpoint at event 30: signature valid, head hash matches"],
            result.Checkpoints);
    }

    [Fact]
    public void An_empty_partial_export_taken_on_trust_has_no_head_hash_to_vouch_for()
    {
        var result = TestChain.Verify([], firstSeq: 15, prevHash: null);

        Assert.True(result.Valid);
        Assert.Equal(0, result.Count);
        Assert.Equal("", result.HeadHash);
    }

    [Fact]
    public void A_partial_export_still_finds_tampering_inside_it()
    {
        var chain = TestChain.Build(40);
        var export = chain.Skip(14).ToList();
        export[10] = WithContent(export[10], "\"outcome\":\"allowed\"", "\"outcome\":\"denied\"");

        var result = TestChain.Verify(export, firstSeq: 15, prevHash: null);

        Assert.Equal(25, result.Break!.Seq);
        Assert.Contains("event 25 was changed", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_partial_export_given_the_known_previous_hash_checks_its_first_link()
    {
        var chain = TestChain.Build(40);
        var export = chain.Skip(14).ToList();

        Assert.True(TestChain.Verify(export, firstSeq: 15, prevHash: chain[13].Hash).Valid);
        var result = TestChain.Verify(export, firstSeq: 15, prevHash: chain[12].Hash);

        Assert.Equal(15, result.Break!.Seq);
        Assert.Contains("event 15 does not follow event 14", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_partial_export_that_does_not_start_where_it_says_is_reported()
    {
        var chain = TestChain.Build(40);

        var result = TestChain.Verify(chain.Skip(15), firstSeq: 15, prevHash: null);

        Assert.Equal(15, result.Break!.Seq);
        Assert.Contains("event 15 is missing", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void The_verifier_stops_at_the_first_break_and_refuses_further_events()
    {
        var chain = TestChain.Build(10);
        chain[2] = WithContent(chain[2], "\"outcome\":\"allowed\"", "\"outcome\":\"denied\"");
        var verifier = new AuditVerifier([], null);

        Assert.True(verifier.Add(chain[0]));
        Assert.True(verifier.Add(chain[1]));
        Assert.False(verifier.Add(chain[2]));
        Assert.False(verifier.Add(chain[3]));
        var result = verifier.Complete();

        Assert.Equal(3, result.Break!.Seq);
        Assert.Equal(2, result.Count);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(20)]
    [InlineData(40)]
    public void A_partial_export_taken_on_trust_trusts_only_its_first_link_and_checks_every_later_one(int forgedSeq)
    {
        var chain = TestChain.Build(40);
        var export = chain.Skip(14).ToList();
        var madeUp = "sha256:" + new string('1', 64);
        var index = forgedSeq - 15;
        // The forger rewrote the event and its own hash, but could not know the true link.
        export[index] = TestChain.Reseal([TestChain.Parse(export[index]) with { Outcome = "denied" }], forgedSeq - 1, madeUp).Single();

        var result = TestChain.Verify(export, firstSeq: 15, prevHash: null);

        Assert.False(result.Valid);
        Assert.Equal(forgedSeq, result.Break!.Seq);
        Assert.Equal($"event {forgedSeq} does not follow event {forgedSeq - 1}: it names prevHash {madeUp}, but event {forgedSeq - 1} hashes to {chain[forgedSeq - 2].Hash} (an event was changed, removed, inserted or reordered)",
            result.Break.Problem);
        Assert.Equal(forgedSeq - 15, result.Count);
        Assert.Equal(chain[forgedSeq - 2].Hash, result.HeadHash);
    }

    [Fact]
    public void A_partial_export_taken_on_trust_still_finds_an_event_removed_after_its_first()
    {
        var chain = TestChain.Build(40);
        var export = chain.Skip(14).ToList();
        export.RemoveAt(1);

        var result = TestChain.Verify(export.Select((s, i) => i == 0 ? s : s with { Seq = s.Seq - 1 }), firstSeq: 15, prevHash: null);

        Assert.Equal(16, result.Break!.Seq);
        Assert.Equal("event 16 holds the content of event 17 (an event was inserted or removed before it, or events were reordered)", result.Break.Problem);
    }

    [Fact]
    public void The_first_event_of_a_whole_chain_is_held_to_the_genesis_and_the_problem_says_so()
    {
        var other = "sha256:" + new string('1', 64);
        var chain = TestChain.Reseal([TestChain.Event(1)], 0, other);

        var result = TestChain.Verify(chain);

        Assert.Equal(new AuditBreak(1, $"event 1 does not start the chain: its prevHash is {other}, not the genesis hash"), result.Break);
        Assert.Equal(0, result.Count);
        Assert.Equal(AuditChain.Genesis, result.HeadHash);
    }

    [Fact]
    public void An_excerpt_notes_a_checkpoint_past_its_last_event_as_not_checked_where_a_whole_chain_would_be_truncated()
    {
        var chain = TestChain.Build(40);
        var excerpt = chain.Skip(14).Take(11).ToList();
        AuditCheckpoint[] checkpoints = [CheckpointAt(chain, 30), CheckpointAt(chain, 10), CheckpointAt(chain, 25), CheckpointAt(chain, 15), CheckpointAt(chain, 14)];

        var result = TestChain.Verify(excerpt, checkpoints, _publicPem, firstSeq: 15, prevHash: null, excerpt: true);
        var asTail = TestChain.Verify(excerpt, checkpoints, _publicPem, firstSeq: 15, prevHash: null);

        Assert.True(result.Valid, result.Break?.Problem);
        Assert.Equal((11L, 15L, chain[24].Hash), (result.Count, result.FirstSeq, result.HeadHash));
        // Its first and last events are inside it: the checkpoints there are checked.
        Assert.Equal([
            "checkpoint at event 10: before this export's first event; not checked",
            "checkpoint at event 14: before this export's first event; not checked",
            "checkpoint at event 15: signature valid, head hash matches",
            "checkpoint at event 25: signature valid, head hash matches",
            "checkpoint at event 30: after this export's last event; not checked",
        ], result.Checkpoints);
        Assert.False(asTail.Valid);
        Assert.Equal(26, asTail.Break!.Seq);
        Assert.Equal($"the chain ends at event 25, but a checkpoint signed at {AuditChain.FormatTime(TestChain.T0.AddHours(1))} vouches for 30 events: the tail was truncated",
            asTail.Break.Problem);
    }

    [Fact]
    public void An_excerpt_still_checks_the_signature_of_a_checkpoint_past_its_end()
    {
        var chain = TestChain.Build(40);
        var forged = CheckpointAt(chain, 30) with { HeadHash = chain[28].Hash };

        var result = TestChain.Verify(chain.Skip(14).Take(11), [forged], _publicPem, firstSeq: 15, prevHash: null, excerpt: true);

        Assert.False(result.Valid);
        Assert.Equal(30, result.Break!.Seq);
        Assert.StartsWith("checkpoint at event 30: ", result.Break.Problem, StringComparison.Ordinal);
        Assert.Contains("signature does not match", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_excerpt_still_finds_a_rewrite_under_a_checkpoint_inside_it()
    {
        var chain = TestChain.Build(40);
        var checkpoint = CheckpointAt(chain, 20);
        var rewritten = chain.Take(14).Concat(TestChain.Reseal(
            chain.Skip(14).Select(s => TestChain.Parse(s) with { Outcome = "denied" }), 14, chain[13].Hash)).ToList();

        var result = TestChain.Verify(rewritten.Skip(14).Take(11), [checkpoint], _publicPem, firstSeq: 15, prevHash: null, excerpt: true);

        Assert.False(result.Valid);
        Assert.Equal(20, result.Break!.Seq);
        Assert.Equal($"event 20 hashes to {rewritten[19].Hash}, but the checkpoint signed at {AuditChain.FormatTime(TestChain.T0.AddHours(1))} says {chain[19].Hash}: the chain was rewritten",
            result.Break.Problem);
    }

    [Fact]
    public void The_same_checkpoint_given_twice_is_checked_once()
    {
        var chain = TestChain.Build(10);
        var checkpoint = CheckpointAt(chain, 10);

        var result = TestChain.Verify(chain, [checkpoint, checkpoint with { }], _publicPem);

        Assert.True(result.Valid);
        Assert.Equal(["checkpoint at event 10: signature valid, head hash matches"], result.Checkpoints);
    }

    [Fact]
    public void Once_a_link_is_broken_no_checkpoint_is_checked_and_the_break_is_the_one_reported()
    {
        var chain = TestChain.Build(20);
        AuditCheckpoint[] checkpoints = [CheckpointAt(chain, 10), CheckpointAt(chain, 20) with { HeadHash = chain[0].Hash }];
        chain[4] = WithContent(chain[4], "\"outcome\":\"allowed\"", "\"outcome\":\"denied\"");

        var result = TestChain.Verify(chain, checkpoints, _publicPem);

        Assert.False(result.Valid);
        Assert.Equal(5, result.Break!.Seq);
        Assert.StartsWith("event 5 was changed", result.Break.Problem, StringComparison.Ordinal);
        Assert.Empty(result.Checkpoints);
        Assert.Equal((4L, chain[3].Hash), (result.Count, result.HeadHash));
    }

    [Fact]
    public void Search_columns_that_match_the_hashed_content_verify()
    {
        var chain = TestChain.Build(5).Select(s => s with { Columns = new SearchColumns("key:billing-agent", "billing") }).ToList();
        var bare = TestChain.Reseal([new AuditEvent { At = TestChain.T0.AddSeconds(1), Kind = AuditKinds.GatewayStarted, Outcome = "started" }], 5, chain[^1].Hash).Single();
        chain.Add(bare with { Columns = new SearchColumns(null, null) });

        var result = TestChain.Verify(chain);

        Assert.True(result.Valid, result.Break?.Problem);
        Assert.Equal(6, result.Count);
    }

    // Rows, not TheoryData<...>: a public member cannot show the gateway's internal StoredAuditEvent.
    public static IEnumerable<ITheoryDataRow> ColumnEdits => new TheoryData<string, Func<StoredAuditEvent, StoredAuditEvent>>
    {
        { "actor", s => s with { Columns = new SearchColumns("key:other-agent", "billing") } },
        { "actor removed", s => s with { Columns = new SearchColumns(null, "billing") } },
        { "connection", s => s with { Columns = new SearchColumns("key:billing-agent", "crm") } },
        { "connection removed", s => s with { Columns = new SearchColumns("key:billing-agent", null) } },
        { "kind", s => s with { Kind = AuditKinds.RequestDenied } },
        { "time", s => s with { At = s.At.AddTicks(10) } },
        { "prevHash", s => s with { PrevHash = "sha256:" + new string('1', 64) } },
    };

    // Internal: it takes the gateway's internal StoredAuditEvent, and xunit runs internal test methods too.
    [Theory]
    [MemberData(nameof(ColumnEdits))]
    internal void An_edited_searchable_column_is_found_at_its_event_though_the_hashed_content_is_intact(string column, Func<StoredAuditEvent, StoredAuditEvent> edit)
    {
        var chain = TestChain.Build(5).Select(s => s with { Columns = new SearchColumns("key:billing-agent", "billing") }).ToList();
        chain[3] = edit(chain[3]);

        var result = TestChain.Verify(chain);

        Assert.False(result.Valid, column);
        Assert.Equal(new AuditBreak(4, "event 4's searchable columns (kind, time, actor, connection, prevHash) differ from its hashed content: they were edited"), result.Break);
        Assert.Equal(3, result.Count);
    }

    [Theory]
    [InlineData("key:billing-agent", null)]
    [InlineData(null, "billing")]
    public void Search_columns_given_to_an_event_without_actor_or_connection_are_an_edit(string? actor, string? connection)
    {
        var bare = TestChain.Reseal([new AuditEvent { At = TestChain.T0, Kind = AuditKinds.GatewayStarted, Outcome = "started" }], 0, AuditChain.Genesis).Single();

        var result = TestChain.Verify([bare with { Columns = new SearchColumns(actor, connection) }]);

        Assert.Equal(1, result.Break!.Seq);
        Assert.Contains("searchable columns", result.Break.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_nul_in_an_actor_is_compared_the_way_the_store_keeps_it()
    {
        var odd = TestChain.Event(1) with { Actor = new AuditActor("corp:a\0b", [], "oidc"), Target = new AuditTarget("bill\0ing", "GET", "/") };
        var stored = TestChain.Reseal([odd], 0, AuditChain.Genesis).Single();

        Assert.True(TestChain.Verify([stored with { Columns = new SearchColumns("corp:a\uFFFDb", "bill\uFFFDing") }]).Valid);
        Assert.False(TestChain.Verify([stored with { Columns = new SearchColumns("corp:a?b", "bill\uFFFDing") }]).Valid);
    }

    [Fact]
    public void Bytes_that_are_not_an_event_under_a_recomputed_hash_are_named_as_an_edit()
    {
        var chain = TestChain.Build(5);
        var bytes = "{\"seq\":2,"u8.ToArray();
        chain[1] = chain[1] with { Canonical = bytes, Hash = AuditChain.HashOf(bytes) };

        var result = TestChain.Verify(chain);

        Assert.Equal(2, result.Break!.Seq);
        Assert.StartsWith("event 2 is not a readable audit event (", result.Break.Problem, StringComparison.Ordinal);
        Assert.EndsWith("): it was edited", result.Break.Problem, StringComparison.Ordinal);
        Assert.Equal(1, result.Count);
    }

    [Fact]
    public void Json_missing_an_event_s_members_under_a_recomputed_hash_is_named_as_an_edit()
    {
        var chain = TestChain.Build(5);
        var bytes = "{\"seq\":2}"u8.ToArray();
        chain[1] = chain[1] with { Canonical = bytes, Hash = AuditChain.HashOf(bytes) };

        var result = TestChain.Verify(chain);

        Assert.Equal(new AuditBreak(2, "event 2 is not a readable audit event (KeyNotFoundException): it was edited"), result.Break);
    }

    [Theory]
    [InlineData("\"kind\":", "\"kind\": ")]
    [InlineData("\"kind\":", "\"extra\":\"x\",\"kind\":")]
    [InlineData(",\"rule\":\"read-billing\"", "")]
    public void A_non_canonical_edit_under_a_recomputed_hash_is_named_as_an_edit(string from, string to)
    {
        var chain = TestChain.Build(5);
        var edited = WithContent(chain[2], from, to);
        chain[2] = edited with { Hash = AuditChain.HashOf(edited.Canonical) };

        var result = TestChain.Verify(chain);

        Assert.Equal(new AuditBreak(3, "event 3 is not in its canonical form (an extra, missing or reformatted member): it was edited"), result.Break);
    }

    [Fact]
    public void A_non_canonical_edit_without_a_recomputed_hash_is_named_as_an_edit()
    {
        var chain = TestChain.Build(5);
        chain[2] = WithContent(chain[2], "\"kind\":", "\"kind\": ");

        var result = TestChain.Verify(chain);

        Assert.Equal(new AuditBreak(3, "event 3 is not in its canonical form: it was edited"), result.Break);
    }

    [Fact]
    public void A_changed_event_is_named_with_the_hash_its_content_has_and_the_one_recorded()
    {
        var chain = TestChain.Build(5);
        chain[2] = WithContent(chain[2], "\"outcome\":\"allowed\"", "\"outcome\":\"denied\"");

        var result = TestChain.Verify(chain);

        Assert.Equal(new AuditBreak(3, $"event 3 was changed: its content hashes to {AuditChain.HashOf(chain[2].Canonical)}, but its recorded hash is {chain[2].Hash}"), result.Break);
    }

    [Fact]
    public void Inspecting_an_intact_event_gives_what_its_links_and_columns_are_checked_against()
    {
        var stored = TestChain.Build(3)[2];

        var check = AuditVerifier.Inspect(stored);

        Assert.Equal(new AuditVerifier.EventCheck(null, 3, stored.PrevHash, AuditKinds.RequestAllowed, AuditChain.FormatTime(stored.At), "key:billing-agent", "billing"), check);
    }

    [Fact]
    public void The_rate_reported_is_events_per_second_of_the_walk()
    {
        Assert.Equal(250, new AuditVerification(true, 500, AuditChain.Genesis, 1, null, [], TimeSpan.FromSeconds(2)).EventsPerSecond);
        Assert.Equal(0, new AuditVerification(true, 500, AuditChain.Genesis, 1, null, [], TimeSpan.Zero).EventsPerSecond);
    }

    [Fact]
    public void A_missing_event_is_named_with_the_events_either_side()
    {
        var chain = TestChain.Build(10);
        chain.RemoveRange(6, 2);

        var result = TestChain.Verify(chain);

        Assert.Equal(new AuditBreak(7, "event 7 is missing: the chain goes from event 6 to event 9 (removed or reordered)"), result.Break);
    }

    [Fact]
    public void An_event_number_seen_again_is_named_with_the_event_before_it()
    {
        var chain = TestChain.Build(10);
        chain.Insert(5, chain[2]);

        var result = TestChain.Verify(chain);

        Assert.Equal(new AuditBreak(6, "event 3 appears again after event 5 (inserted or reordered)"), result.Break);
    }

    public static TheoryData<string, string, string> UnreadableEdits => new()
    {
        { "\"kind\":\"request.allowed\"", "\"kind\":5", "InvalidOperationException" },
        { "\"at\":\"", "\"at\":\"yesterday", "FormatException" },
        { "\"sessionId\":\"", "\"sessionId\":\"nope", "FormatException" },
        { "\"seq\":2,", "", "KeyNotFoundException" },
    };

    [Theory]
    [MemberData(nameof(UnreadableEdits))]
    public void An_event_edited_into_json_that_is_not_an_event_is_named_with_what_could_not_be_read(string from, string to, string error)
    {
        var chain = TestChain.Build(5);
        var edited = WithContent(chain[1], from, to);
        var rehashed = edited with { Hash = AuditChain.HashOf(edited.Canonical) };

        var result = TestChain.Verify([chain[0], edited]);
        var underRecomputedHash = TestChain.Verify([chain[0], rehashed]);

        Assert.Equal(new AuditBreak(2, $"event 2 is not a readable audit event ({error}): it was edited"), result.Break);
        Assert.Equal(new AuditBreak(2, $"event 2 is not a readable audit event ({error}): it was edited"), underRecomputedHash.Break);
    }

    [Theory]
    [InlineData("\"rule\":\"read-billing\"", "\"rule\":5")]
    [InlineData("\"rule\":\"read-billing\"", "\"rule\":[]")]
    [InlineData("\"detail\":{\"n\":\"2\"}", "\"detail\":null")]
    [InlineData("\"detail\":{\"n\":\"2\"}", "\"detail\":[]")]
    [InlineData("\"target\":{", "\"target\":[],\"x\":{")]
    public void A_member_of_the_wrong_type_under_a_recomputed_hash_is_read_as_absent_and_named_as_an_edit(string from, string to)
    {
        var chain = TestChain.Build(5);
        var edited = WithContent(chain[1], from, to);

        var result = TestChain.Verify([chain[0], edited with { Hash = AuditChain.HashOf(edited.Canonical) }]);

        Assert.Equal(new AuditBreak(2, "event 2 is not in its canonical form (an extra, missing or reformatted member): it was edited"), result.Break);
    }

    [Fact]
    public void Inspecting_an_edited_event_gives_only_the_problem()
    {
        var intact = TestChain.Build(3)[2];
        var changed = WithContent(intact, "\"outcome\":\"allowed\"", "\"outcome\":\"denied\"");
        var unreadable = changed with { Canonical = "{}"u8.ToArray() };
        var reformatted = WithContent(intact, "\"kind\":", "\"kind\": ");

        foreach (var edited in new[] { changed, unreadable, unreadable with { Hash = AuditChain.HashOf(unreadable.Canonical) }, reformatted, reformatted with { Hash = AuditChain.HashOf(reformatted.Canonical) } })
        {
            var check = AuditVerifier.Inspect(edited);

            Assert.NotNull(check.Problem);
            Assert.Equal(new AuditVerifier.EventCheck(check.Problem, 0, "", "", "", null, null), check);
        }
    }
}
