using System.Buffers;
using Airlock.Gateway.Detection;
using Airlock.Gateway.Masking;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Airlock.Benchmarks;

/// <summary>
/// Masking throughput on one core: a ~1 MB JSON body of customer records (5% of string values
/// hold PII) with every detector redacting and two field rules, records of the same shape with no PII (the
/// common case), and ~1 MB of log text. Bodies go in as 16 KiB pieces, as they come off the
/// upstream. The MB/s column is bytes in (10^6 bytes) per second of the mean.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class MaskingBenchmarks
{
    public const int PieceBytes = 16 * 1024;

    private readonly ArrayBufferWriter<byte> _output = new(2 * MaskingCorpus.TargetBytes);
    private MaskingPlan _jsonPlan = null!;
    private MaskingPlan _textPlan = null!;
    private byte[] _json = [];
    private byte[] _cleanJson = [];
    private byte[] _text = [];

    [GlobalSetup]
    public void Setup()
    {
        _json = MaskingCorpus.Json;
        _cleanJson = MaskingCorpus.CleanJson;
        _text = MaskingCorpus.Text;
        var everyDetector = Detectors.All.Select(d => new DetectorRule(d, MaskAction.Redact)).ToArray();
        _jsonPlan = new MaskingPlan(
            [new FieldRule(Path("$[*].address.street"), MaskAction.Redact, "ADDRESS"), new FieldRule(Path("$..password"), MaskAction.Drop, "PASSWORD")],
            everyDetector,
            hashKey: null);
        _textPlan = new MaskingPlan([], everyDetector, hashKey: null);
    }

    /// <summary>JSON with PII, all detectors and two field rules.</summary>
    [Benchmark]
    public int JsonAllDetectors() => Json(_json);

    /// <summary>The same records with no PII: what most responses look like.</summary>
    [Benchmark]
    public int JsonNoPii() => Json(_cleanJson);

    /// <summary>Log lines with PII, all detectors.</summary>
    [Benchmark]
    public int TextAllDetectors()
    {
        var masker = new TextMasker(_textPlan);
        return Feed(masker, _text);
    }

    private int Json(byte[] body)
    {
        using var masker = new JsonMasker(_jsonPlan, maxTokenBytes: 1 << 20);
        return Feed(masker, body);
    }

    private int Feed(IBodyMasker masker, byte[] body)
    {
        _output.ResetWrittenCount();
        for (var at = 0; at < body.Length; at += PieceBytes)
        {
            masker.Write(body.AsSpan(at, Math.Min(PieceBytes, body.Length - at)), _output);
        }

        masker.Complete(_output);
        return _output.WrittenCount;
    }

    private static JsonPathPattern Path(string text) =>
        JsonPathPattern.TryParse(text, out var pattern, out var error) ? pattern! : throw new ArgumentException(error);

    /// <summary>Adds the MB/s column.</summary>
    private sealed class ThroughputConfig : ManualConfig
    {
        public ThroughputConfig()
        {
            AddColumn(new ThroughputColumn(benchmark => benchmark.Descriptor.WorkloadMethod.Name switch
            {
                nameof(JsonNoPii) => MaskingCorpus.CleanJson.Length,
                nameof(TextAllDetectors) => MaskingCorpus.Text.Length,
                _ => MaskingCorpus.Json.Length,
            }));
        }
    }
}
