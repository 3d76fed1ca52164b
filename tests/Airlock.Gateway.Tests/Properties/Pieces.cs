using System.Buffers;
using System.Text;
using Airlock.Gateway.Masking;

namespace Airlock.Gateway.Tests.Properties;

/// <summary>Feeds a body to a masker cut at boundaries chosen from a seed: whole, a byte at a
/// time, or pieces of random sizes (which split UTF-8 sequences, escapes and tokens).</summary>
internal static class Pieces
{
    public static int[] Cuts(int length, int seed)
    {
        var random = new Random(seed);
        var largest = random.Next(4) switch { 0 => 2, 1 => 8, 2 => 64, _ => 4096 };
        var cuts = new List<int>();
        for (var at = 0; at < length; at += cuts[^1])
        {
            cuts.Add(random.Next(1, largest + 1));
        }

        return [.. cuts];
    }

    public static int[] Bytewise(int length) => [.. Enumerable.Repeat(1, length)];

    /// <summary>The masked body and the count, or what the masker threw.</summary>
    public static (string Output, long Count) Feed(IBodyMasker masker, byte[] body, int[]? cuts)
    {
        var output = new ArrayBufferWriter<byte>();
        var at = 0;
        foreach (var size in cuts ?? [body.Length])
        {
            var take = Math.Min(size, body.Length - at);
            masker.Write(body.AsSpan(at, take), output);
            at += take;
        }

        masker.Complete(output);
        return (Encoding.UTF8.GetString(output.WrittenSpan), masker.Counts.Total);
    }
}
