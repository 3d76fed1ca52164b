using System.Collections.Immutable;
using Airlock.Gateway.Audit;
using BenchmarkDotNet.Attributes;

namespace Airlock.Benchmarks;

/// <summary>
/// The CPU cost of the audit chain per event: putting a typical request event in canonical
/// form (RFC 8785), hashing it, sealing it, and the verifier's work per stored event.
/// </summary>
[MemoryDiagnoser]
public class AuditBenchmarks
{
    private AuditEvent _event = null!;
    private byte[] _canonical = [];
    private StoredAuditEvent _stored = null!;

    [GlobalSetup]
    public void Setup()
    {
        _event = new AuditEvent
        {
            At = new DateTimeOffset(2026, 11, 24, 9, 0, 0, TimeSpan.Zero),
            Kind = AuditKinds.RequestAllowed,
            Actor = new AuditActor("key:billing-agent", ["agents", "billing"], "apikey"),
            Target = new AuditTarget("billing", "GET", "/billing/v1/customers/42"),
            Rule = "read-billing",
            PolicyVersion = "sha256:9b74c9897bac770ffc029102a200c5de",
            SessionId = Guid.Parse("01937a6e-0000-7000-8000-000000000001"),
            Outcome = "allowed",
            Detail = ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal),
        };
        var (sealedEvent, canonical) = AuditChain.Seal([_event], 0, AuditChain.Genesis)[0];
        _canonical = canonical;
        _stored = new StoredAuditEvent(1, canonical, sealedEvent.Hash, sealedEvent.PrevHash, sealedEvent.Kind, sealedEvent.At);
    }

    [Benchmark]
    public byte[] Canonicalize() => AuditChain.Canonicalize(_event);

    [Benchmark]
    public string Hash() => AuditChain.HashOf(_canonical);

    [Benchmark]
    public object Seal() => AuditChain.Seal([_event], 41, AuditChain.Genesis);

    /// <summary>What <see cref="AuditVerifier"/> does per stored event: parse, re-canonicalise, hash, link.</summary>
    [Benchmark]
    public bool VerifyOne()
    {
        var verifier = new AuditVerifier([], null);
        return verifier.Add(_stored);
    }
}
