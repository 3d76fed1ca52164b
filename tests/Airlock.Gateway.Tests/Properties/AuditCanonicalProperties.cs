using System.Collections.Immutable;
using System.Text;
using Airlock.Gateway.Audit;
using CsCheck;

namespace Airlock.Gateway.Tests.Properties;

/// <summary>
/// <see cref="AuditChain"/> writes an event's canonical form member by member, in an order fixed
/// by hand, because it runs for every request. Any event must come out exactly as the general
/// RFC 8785 writer (<see cref="CanonicalJson.Obj"/>, which sorts its members) writes the same
/// object: otherwise hashes would differ from what a third party's JCS computes.
/// </summary>
public class AuditCanonicalProperties
{
    private static readonly Gen<string> Text = Gen.Frequency(
        (6, Gen.String[Gen.Char.AlphaNumeric, 0, 12]),
        (2, Gen.String[Gen.Char[(char)0, (char)0x7f], 0, 8]),
        (1, Gen.OneOf("\"", "\\", "\u20ac", "\ud83d\ude00", "\ufb33", "\u0080", "\ud800", "x\udc00", "\u2028<>&'/")),
        (1, Gen.String[Gen.Char, 0, 6]));

    private static readonly Gen<AuditEvent> Event =
        from seq in Gen.Long[0, long.MaxValue]
        from ticks in Gen.Long[0, DateTimeOffset.MaxValue.UtcTicks]
        from kind in Text
        from outcome in Text
        from actor in Gen.Bool
        from subject in Text
        from groups in Text.Array[0, 3]
        from authMethod in Text
        from target in Gen.Bool
        from connection in Text.Null()
        from method in Text.Null()
        from path in Text.Null()
        from rule in Text.Null()
        from policyVersion in Text.Null()
        from reviewId in Gen.Guid.Nullable()
        from sessionId in Gen.Guid.Nullable()
        from detail in Gen.Select(Text, Text).Array[0, 4]
        from prevHash in Text
        from hash in Text
        select new AuditEvent
        {
            Seq = seq,
            At = new DateTimeOffset(ticks, TimeSpan.Zero),
            Kind = kind,
            Outcome = outcome,
            Actor = actor ? new AuditActor(subject, [.. groups], authMethod) : null,
            Target = target ? new AuditTarget(connection, method, path) : null,
            Rule = rule,
            PolicyVersion = policyVersion,
            ReviewId = reviewId,
            SessionId = sessionId,
            Detail = detail.Aggregate(ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal), (d, kv) => d.SetItem(kv.Item1, kv.Item2)),
            PrevHash = prevHash,
            Hash = hash,
        };

    /// <summary>The event as a tree the general writer sorts: the oracle.</summary>
    private static CanonicalJson.Obj Tree(AuditEvent e, bool includeHash)
    {
        var json = new CanonicalJson.Obj()
            .Add("seq", e.Seq)
            .Add("at", AuditChain.FormatTime(e.At))
            .Add("kind", e.Kind)
            .Add("actor", e.Actor is { } a ? new CanonicalJson.Obj().Add("subject", a.Subject).Add("groups", a.Groups.ToArray()).Add("authMethod", a.AuthMethod) : null)
            .Add("target", e.Target is { } t ? new CanonicalJson.Obj().Add("connection", t.Connection).Add("method", t.Method).Add("path", t.Path) : null)
            .Add("rule", e.Rule)
            .Add("policyVersion", e.PolicyVersion)
            .Add("reviewId", e.ReviewId?.ToString())
            .Add("sessionId", e.SessionId?.ToString())
            .Add("outcome", e.Outcome)
            .Add("detail", e.Detail.Aggregate(new CanonicalJson.Obj(), (o, d) => o.Add(d.Key, d.Value)))
            .Add("prevHash", e.PrevHash);
        return includeHash ? json.Add("hash", e.Hash) : json;
    }

    [Fact]
    public void An_event_written_member_by_member_is_the_general_writers_canonical_form() =>
        Event.Check(e =>
        {
            Assert.Equal(Encoding.UTF8.GetString(CanonicalJson.Serialize(Tree(e, includeHash: false))), Encoding.UTF8.GetString(AuditChain.Canonicalize(e)));
            Assert.Equal(CanonicalJson.Serialize(Tree(e, includeHash: true)), AuditChain.CanonicalizeWithHash(e));
        }, iter: PropertySize.Iterations(2000));
}
