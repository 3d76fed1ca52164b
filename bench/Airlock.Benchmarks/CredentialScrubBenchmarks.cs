using System.Text;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Masking;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Airlock.Benchmarks;

/// <summary>
/// What scrubbing the connection's own credential costs a response that does not hold it (the
/// common case, on every connection with a credential): about 1 MB of JSON read in 16 KiB
/// pieces through the stream the gateway uses, for a bearer token (5 values searched) and a
/// basic credential (10), against the same copy without scrubbing. The MB/s column is bytes in
/// (10^6 bytes) per second of the mean.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class CredentialScrubBenchmarks
{
    private readonly byte[] _piece = new byte[MaskingBenchmarks.PieceBytes];
    private byte[] _body = [];
    private InjectedCredential _bearer = null!;
    private InjectedCredential _basic = null!;

    [GlobalSetup]
    public void Setup()
    {
        _body = MaskingCorpus.CleanJson;
        _bearer = InjectedCredential.For(new UpstreamCredential("bearer", "Authorization", new Secret("env:T", "Bearer Up5tream+Secret/Token=9f8e7d42c0ffee")))!;
        _basic = InjectedCredential.For(new UpstreamCredential("basic", "Authorization",
            new Secret("env:B", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("svc-billing:basic+Pass/word=7a6b5c4d")))))!;
    }

    /// <summary>The body copied piece by piece, nothing scrubbed: the floor.</summary>
    [Benchmark(Baseline = true)]
    public long CopyOnly() => Drain(new PieceStream(_body));

    [Benchmark]
    public long BearerNotPresent() => Drain(new CredentialScrubbingStream(new PieceStream(_body), _bearer, new MaskCounts()));

    [Benchmark]
    public long BasicNotPresent() => Drain(new CredentialScrubbingStream(new PieceStream(_body), _basic, new MaskCounts()));

    /// <summary>Reads as YARP's copy loop does, through <c>ReadAsync(Memory)</c>.</summary>
    private long Drain(Stream stream)
    {
        using (stream)
        {
            long total = 0;
            int read;
            while ((read = Read(stream)) > 0)
            {
                total += read;
            }

            return total;
        }
    }

    private int Read(Stream stream)
    {
        var pending = stream.ReadAsync(_piece.AsMemory());
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>The upstream's body, handed out in 16 KiB pieces as the socket would.</summary>
    private sealed class PieceStream(byte[] body) : MemoryStream(body, writable: false)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, MaskingBenchmarks.PieceBytes));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, MaskingBenchmarks.PieceBytes)], cancellationToken);
    }

    private sealed class ThroughputConfig : ManualConfig
    {
        public ThroughputConfig() => AddColumn(new ThroughputColumn(_ => MaskingCorpus.CleanJson.Length));
    }
}
