using System.Buffers;
using System.Text;
using Airlock.Gateway.Detection;
using Airlock.Gateway.Masking;

namespace Airlock.Gateway.Tests.Masking;

internal static class MaskingTestPlans
{
    public static readonly byte[] HashKey = Encoding.UTF8.GetBytes("test-hash-key-0123456789abcdef");

    public static JsonPathPattern Path(string text) =>
        JsonPathPattern.TryParse(text, out var pattern, out var error) ? pattern! : throw new ArgumentException(error);

    public static DetectorRule Detect(string name, MaskAction action = MaskAction.Redact) =>
        new(Detectors.TryGet(name, out var d) ? d : throw new ArgumentException(name), action);

    public static FieldRule Field(string path, MaskAction action = MaskAction.Redact, string label = "FIELD") => new(Path(path), action, label);

    public static MaskingPlan Plan(IEnumerable<FieldRule>? fields = null, params DetectorRule[] detectors) =>
        new(fields ?? [], detectors, HashKey);

    /// <summary>Feeds the body in pieces of <paramref name="pieceSize"/> bytes (0: whole).</summary>
    public static string Run(IBodyMasker masker, string body, int pieceSize = 0)
    {
        var input = Encoding.UTF8.GetBytes(body);
        var output = new ArrayBufferWriter<byte>();
        var step = pieceSize <= 0 ? Math.Max(1, input.Length) : pieceSize;
        for (var at = 0; at < input.Length; at += step)
        {
            masker.Write(input.AsSpan(at, Math.Min(step, input.Length - at)), output);
        }

        masker.Complete(output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    public static string Json(MaskingPlan plan, string body, int pieceSize = 0, bool lines = false, int maxToken = 1 << 20)
    {
        using var masker = new JsonMasker(plan, maxToken, lines);
        return Run(masker, body, pieceSize);
    }
}
