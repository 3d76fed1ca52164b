using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Airlock.Gateway.Audit;

namespace Airlock.Gateway.Tests.Audit;

public class AuditChainTests
{
    [Fact]
    public void The_genesis_hash_is_sha256_followed_by_64_zeros()
    {
        Assert.Matches("^sha256:0{64}$", AuditChain.Genesis);
    }

    [Fact]
    public void An_event_canonicalises_to_the_documented_json_and_hashes_to_sha256_of_those_bytes()
    {
        var e = new AuditEvent
        {
            Seq = 7,
            At = new DateTimeOffset(2026, 11, 24, 9, 30, 15, 123, 456, TimeSpan.FromHours(2)),
            Kind = AuditKinds.RequestDenied,
            Actor = new AuditActor("corp:alice", ["finance", "agents"], "oidc"),
            Target = new AuditTarget("billing", "DELETE", "/billing/v1/customers/42"),
            Rule = "no-deletes",
            PolicyVersion = "sha256:abc",
            ReviewId = null,
            SessionId = Guid.Parse("01937a6e-0000-7000-8000-000000000001"),
            Outcome = "denied",
            Detail = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
                [new KeyValuePair<string, string>("z", "last"), new KeyValuePair<string, string>("comment", "line1\nline2")]),
            PrevHash = AuditChain.Genesis,
            Hash = "ignored: the hash is not part of what is hashed",
        };

        // Written out by hand: members sorted, times in UTC with microseconds, nulls kept, no whitespace.
        const string Expected = """{"actor":{"authMethod":"oidc","groups":["finance","agents"],"subject":"corp:alice"},"at":"2026-11-24T07:30:15.123456Z","detail":{"comment":"line1\nline2","z":"last"},"kind":"request.denied","outcome":"denied","policyVersion":"sha256:abc","prevHash":"sha256:0000000000000000000000000000000000000000000000000000000000000000","reviewId":null,"rule":"no-deletes","seq":7,"sessionId":"01937a6e-0000-7000-8000-000000000001","target":{"connection":"billing","method":"DELETE","path":"/billing/v1/customers/42"}}""";
        var canonical = AuditChain.Canonicalize(e);

        Assert.Equal(Expected, Encoding.UTF8.GetString(canonical));
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Expected))), AuditChain.HashOf(canonical));
        // With its hash (an export line), "hash" takes its sorted place between "detail" and "kind".
        Assert.Equal(Expected.Replace(",\"kind\":", ",\"hash\":\"" + e.Hash + "\",\"kind\":", StringComparison.Ordinal),
            Encoding.UTF8.GetString(AuditChain.CanonicalizeWithHash(e)));
    }

    [Fact]
    public void Sealing_numbers_links_and_hashes_events_after_the_head()
    {
        var first = AuditChain.Seal([TestChain.Event(1), TestChain.Event(2)], 0, AuditChain.Genesis);
        var more = AuditChain.Seal([TestChain.Event(3), TestChain.Event(4), TestChain.Event(5)], 2, first[^1].Event.Hash);
        var all = first.Concat(more).ToList();

        Assert.Equal([1L, 2, 3, 4, 5], all.Select(s => s.Event.Seq));
        Assert.Equal(AuditChain.Genesis, all[0].Event.PrevHash);
        for (var i = 0; i < all.Count; i++)
        {
            var (sealedEvent, canonical) = all[i];
            Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(canonical)), sealedEvent.Hash);
            Assert.Equal(AuditChain.Canonicalize(sealedEvent), canonical);
            if (i > 0)
            {
                Assert.Equal(all[i - 1].Event.Hash, sealedEvent.PrevHash);
            }
        }

        Assert.Equal(5, all.Select(s => s.Event.Hash).Distinct().Count());
    }

    [Fact]
    public void Sealing_truncates_time_to_microseconds_in_utc()
    {
        var at = new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.FromHours(1)).AddTicks(1234567);
        var (sealedEvent, canonical) = Assert.Single(AuditChain.Seal([TestChain.Event(1) with { At = at }], 0, AuditChain.Genesis));

        Assert.Equal(TimeSpan.Zero, sealedEvent.At.Offset);
        Assert.Equal(at.UtcTicks - 7, sealedEvent.At.UtcTicks);
        Assert.Contains("\"at\":\"2026-11-24T09:00:00.123456Z\"", Encoding.UTF8.GetString(canonical), StringComparison.Ordinal);
    }

    [Fact]
    public void A_sealed_event_parses_back_to_the_same_event_and_the_same_bytes()
    {
        var review = Guid.NewGuid();
        var original = TestChain.Event(3) with { ReviewId = review, Detail = TestChain.Event(3).Detail.Add("comment", "ok \"quoted\" \u20ac\t") };
        var (sealedEvent, canonical) = Assert.Single(AuditChain.Seal([original], 41, "sha256:" + new string('a', 64)));

        var parsed = AuditChain.Parse(canonical, sealedEvent.Hash);

        Assert.Equal(42, parsed.Seq);
        Assert.Equal(sealedEvent.At, parsed.At);
        Assert.Equal(original.Kind, parsed.Kind);
        Assert.Equal(original.Actor!.Subject, parsed.Actor!.Subject);
        Assert.Equal(original.Actor.Groups.ToArray(), parsed.Actor.Groups.ToArray());
        Assert.Equal(original.Actor.AuthMethod, parsed.Actor.AuthMethod);
        Assert.Equal(original.Target, parsed.Target);
        Assert.Equal(original.Rule, parsed.Rule);
        Assert.Equal(original.PolicyVersion, parsed.PolicyVersion);
        Assert.Equal(review, parsed.ReviewId);
        Assert.Equal(original.SessionId, parsed.SessionId);
        Assert.Equal(original.Outcome, parsed.Outcome);
        Assert.Equal(original.Detail.ToArray(), parsed.Detail.ToArray());
        Assert.Equal("sha256:" + new string('a', 64), parsed.PrevHash);
        Assert.Equal(sealedEvent.Hash, parsed.Hash);
        Assert.Equal(canonical, AuditChain.Canonicalize(parsed));
    }

    [Fact]
    public void An_export_line_carries_the_hash_and_parses_back_without_being_told_it()
    {
        var (sealedEvent, canonical) = Assert.Single(AuditChain.Seal([TestChain.Event(1)], 0, AuditChain.Genesis));

        var parsed = AuditChain.Parse(AuditChain.CanonicalizeWithHash(sealedEvent));

        Assert.Equal(sealedEvent.Hash, parsed.Hash);
        Assert.Equal(canonical, AuditChain.Canonicalize(parsed));
    }

    [Fact]
    public void An_event_without_actor_target_or_ids_round_trips_with_nulls()
    {
        var bare = new AuditEvent { At = TestChain.T0, Kind = AuditKinds.GatewayStarted, Outcome = "started" };
        var (sealedEvent, canonical) = Assert.Single(AuditChain.Seal([bare], 0, AuditChain.Genesis));

        var parsed = AuditChain.Parse(canonical, sealedEvent.Hash);

        Assert.Null(parsed.Actor);
        Assert.Null(parsed.Target);
        Assert.Null(parsed.ReviewId);
        Assert.Empty(parsed.Detail);
        Assert.Contains("\"actor\":null", Encoding.UTF8.GetString(canonical), StringComparison.Ordinal);
        Assert.Equal(canonical, AuditChain.Canonicalize(parsed));
    }

    [Fact]
    public void A_lone_surrogate_in_a_claim_is_sealed_as_the_replacement_character_and_still_verifies()
    {
        var odd = TestChain.Event(1) with { Actor = new AuditActor("corp:\ud800bob", [], "oidc") };
        var chain = TestChain.Stored(AuditChain.Seal([odd], 0, AuditChain.Genesis)).ToList();

        Assert.Equal("corp:\ufffdbob", TestChain.Parse(chain[0]).Actor!.Subject);
        Assert.True(TestChain.Verify(chain).Valid);
    }

    [Fact]
    public void Changing_any_one_field_changes_the_hash()
    {
        var baseEvent = TestChain.Event(1) with { Seq = 1, PrevHash = AuditChain.Genesis };
        var variants = new[]
        {
            baseEvent,
            baseEvent with { Seq = 2 },
            baseEvent with { At = baseEvent.At.AddTicks(10) },
            baseEvent with { Kind = AuditKinds.RequestDenied },
            baseEvent with { Actor = baseEvent.Actor! with { Subject = "key:other" } },
            baseEvent with { Actor = baseEvent.Actor! with { Groups = ["agents"] } },
            baseEvent with { Target = baseEvent.Target! with { Path = "/billing/v1/customers/2" } },
            baseEvent with { Rule = null },
            baseEvent with { PolicyVersion = "sha256:other" },
            baseEvent with { ReviewId = Guid.Empty },
            baseEvent with { SessionId = null },
            baseEvent with { Outcome = "denied" },
            baseEvent with { Detail = baseEvent.Detail.SetItem("n", "2") },
            baseEvent with { PrevHash = "sha256:" + new string('f', 64) },
        };

        Assert.Equal(variants.Length, variants.Select(v => AuditChain.HashOf(AuditChain.Canonicalize(v))).Distinct().Count());
    }

    [Fact]
    public void An_event_read_with_members_missing_has_empty_text_in_them_never_null()
    {
        // What `airlock audit verify` reads from a hand-edited export line: the members it
        // lacks are empty, so the verifier can say the line is not canonical instead of failing.
        var parsed = AuditChain.Parse("""{"seq":3,"at":"2026-11-24T09:00:00.000000Z","kind":"gateway.started","outcome":"started","actor":{"groups":[]},"detail":{"note":null}}"""u8);

        Assert.Equal(("", ""), (parsed.Actor!.Subject, parsed.Actor.AuthMethod));
        Assert.Equal("", parsed.Detail["note"]);
        Assert.Equal(("", ""), (parsed.PrevHash, parsed.Hash));
        Assert.Equal((3L, "gateway.started", "started"), (parsed.Seq, parsed.Kind, parsed.Outcome));
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 9, 0, 0, TimeSpan.Zero), parsed.At);
        Assert.Null(parsed.Target);
        Assert.Null(parsed.Rule);
    }
}
