using Airlock.Gateway.Identity.ApiKeys;
using BenchmarkDotNet.Attributes;

namespace Airlock.Benchmarks;

/// <summary>The CPU cost of checking an API key once its record is loaded.</summary>
[MemoryDiagnoser]
public class ApiKeyBenchmarks
{
    private string _text = "";
    private byte[] _hash = [];

    [GlobalSetup]
    public void Setup() => (_, _text, _hash) = ApiKeyFormat.Generate();

    [Benchmark]
    public bool ParseAndVerify() => ApiKeyFormat.TryParse(_text, out _, out var secret) && ApiKeyFormat.Matches(secret, _hash);
}
