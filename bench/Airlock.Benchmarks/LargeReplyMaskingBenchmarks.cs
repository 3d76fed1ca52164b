using System.Text.Json;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Detection;
using Airlock.Gateway.Masking;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Airlock.Benchmarks;

/// <summary>
/// The 1 MB reply of <c>bench/load.sh</c> (<c>bench/Airlock.LoadTargets</c>' <c>/large</c>, built
/// here the same way) masked as the gateway masks it on the load script's masked connection:
/// <c>detectors: [ { detector: pii }, { detector: secrets } ]</c>, no field rules, the default
/// value bound, through <see cref="MaskingReadStream"/> (16 KiB pieces from the upstream's
/// stream) read 64 KiB at a time as YARP's copier reads. Beside it, the physical limit: a bare
/// <see cref="Utf8JsonReader"/> pass over the same bytes in the same pieces. Three of four
/// records carry an email, a phone number or a card number in their <c>contact</c> field.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class LargeReplyMaskingBenchmarks
{
    public const int PieceBytes = 16 * 1024;
    public const int ReadBytes = 64 * 1024;

    public static readonly byte[] Body = Airlock.Bench.CustomerRecords.Json(1024 * 1024);

    private readonly byte[] _read = new byte[ReadBytes];
    private readonly byte[] _held = new byte[2 * PieceBytes];
    private MaskingPlan _plan = null!;

    [GlobalSetup]
    public void Setup()
    {
        // The order configuration gives them: the pii group's detectors, then the secrets group's.
        var rules = new List<DetectorRule>();
        foreach (var name in Detectors.Groups["pii"].Concat(Detectors.Groups["secrets"]))
        {
            rules.Add(new DetectorRule(Detectors.TryGet(name, out var detector) ? detector : throw new InvalidOperationException(name), MaskAction.Redact));
        }

        _plan = new MaskingPlan([], rules, hashKey: null);
    }

    /// <summary>A bare reader pass over the body, in the same pieces: what masking cannot beat.</summary>
    [Benchmark(Baseline = true)]
    public int Reader()
    {
        var state = new JsonReaderState();
        var held = 0;
        var tokens = 0;
        for (var at = 0; at < Body.Length; at += PieceBytes)
        {
            var piece = Body.AsSpan(at, Math.Min(PieceBytes, Body.Length - at));
            piece.CopyTo(_held.AsSpan(held));
            var data = _held.AsSpan(0, held + piece.Length);
            var reader = new Utf8JsonReader(data, at + piece.Length == Body.Length, state);
            while (reader.Read())
            {
                tokens++;
            }

            state = reader.CurrentState;
            var rest = data[(int)reader.BytesConsumed..];
            rest.CopyTo(_held);
            held = rest.Length;
        }

        return tokens;
    }

    /// <summary>The gateway's masked path for the reply: <see cref="MaskingReadStream"/> over
    /// <see cref="JsonMasker"/>, read as YARP reads it.</summary>
    [Benchmark]
    public long Masked()
    {
        var counts = new MaskCounts();
        var masker = new JsonMasker(_plan, (int)MaskingConfig.DefaultMaxValueBytes, counts: counts);
        using var stream = new MaskingReadStream(new MemoryStream(Body, writable: false), masker, ReadOnlyMemory<byte>.Empty, () => { }, _ => { });
        long total = 0;
        int n;
        while ((n = stream.ReadAsync(_read).AsTask().GetAwaiter().GetResult()) > 0)
        {
            total += n;
        }

        return total + counts.Total;
    }

    /// <summary>Adds the MB/s column.</summary>
    private sealed class ThroughputConfig : ManualConfig
    {
        public ThroughputConfig()
        {
            AddColumn(new ThroughputColumn(_ => Body.Length));
        }
    }
}
