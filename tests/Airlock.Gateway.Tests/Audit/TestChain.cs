using System.Collections.Immutable;
using Airlock.Gateway.Audit;

namespace Airlock.Gateway.Tests.Audit;

/// <summary>Builds chains in memory, sealed by the real <see cref="AuditChain"/>, stored the way the stores keep them.</summary>
internal static class TestChain
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);

    public static AuditEvent Event(int i, string outcome = "allowed") => new()
    {
        At = T0.AddMilliseconds(i * 1.5),
        Kind = AuditKinds.RequestAllowed,
        Actor = new AuditActor("key:billing-agent", ["agents", "billing"], "apikey"),
        Target = new AuditTarget("billing", "GET", $"/billing/v1/customers/{i}"),
        Rule = "read-billing",
        PolicyVersion = "sha256:policy",
        SessionId = Guid.CreateVersion7(T0.AddSeconds(i)),
        Outcome = outcome,
        Detail = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, string>("n", i.ToString(System.Globalization.CultureInfo.InvariantCulture))]),
    };

    /// <summary>Events 1..count, sealed from the genesis.</summary>
    public static List<StoredAuditEvent> Build(int count, Func<int, AuditEvent>? make = null) =>
        [.. Stored(AuditChain.Seal([.. Enumerable.Range(1, count).Select(make ?? (i => Event(i)))], 0, AuditChain.Genesis))];

    /// <summary>Seals events after a given head, as an attacker with the database would.</summary>
    public static List<StoredAuditEvent> Reseal(IEnumerable<AuditEvent> events, long headSeq, string headHash) =>
        [.. Stored(AuditChain.Seal([.. events], headSeq, headHash))];

    public static IEnumerable<StoredAuditEvent> Stored(IEnumerable<(AuditEvent Event, byte[] Canonical)> sealedEvents) =>
        sealedEvents.Select(s => new StoredAuditEvent(s.Event.Seq, s.Canonical, s.Event.Hash, s.Event.PrevHash, s.Event.Kind, s.Event.At));

    public static AuditEvent Parse(StoredAuditEvent stored) => AuditChain.Parse(stored.Canonical, stored.Hash);

    public static AuditVerification Verify(IEnumerable<StoredAuditEvent> chain, IEnumerable<AuditCheckpoint>? checkpoints = null, string? publicPem = null,
        long firstSeq = 1, string? prevHash = AuditChain.Genesis, bool excerpt = false)
    {
        var verifier = new AuditVerifier(checkpoints ?? [], publicPem, firstSeq, prevHash, excerpt);
        foreach (var stored in chain)
        {
            if (!verifier.Add(stored))
            {
                break;
            }
        }

        return verifier.Complete();
    }
}
