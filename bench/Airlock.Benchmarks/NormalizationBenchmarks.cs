using Airlock.Gateway.Normalization;
using BenchmarkDotNet.Attributes;

namespace Airlock.Benchmarks;

/// <summary>The cost of putting a request target in canonical form, on every request.</summary>
[MemoryDiagnoser]
public class NormalizationBenchmarks
{
    [Params(
        "/billing/v1/customers/42?expand=cards",
        "/billing/v1/x/../customers/%34%32/caf%C3%A9?q=a%20b",
        "/billing/v1/customers/42/invoices/2026-11/lines/17/adjustments?limit=50&cursor=eyJpZCI6MTJ9")]
    public string Target { get; set; } = "";

    // Returns the path, not the internal NormalizedTarget: BenchmarkDotNet's generated project
    // cannot see the gateway's internal types.
    [Benchmark]
    public string Normalize()
    {
        RequestTargetNormalizer.Normalize(Target, out var target);
        return target.Path;
    }
}
