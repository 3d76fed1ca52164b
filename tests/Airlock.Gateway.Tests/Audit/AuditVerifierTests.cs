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
}
