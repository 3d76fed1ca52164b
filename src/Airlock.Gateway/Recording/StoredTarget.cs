using Airlock.Gateway.Detection;
using Airlock.Gateway.Masking;

namespace Airlock.Gateway.Recording;

/// <summary>
/// A request's path and query as the gateway keeps them (sessions, the audit trail, recordings):
/// values in a secret's format (private keys, JWTs, AWS access keys, GitHub tokens, secret keys)
/// are redacted, so that a credential an agent put in a URL is never written down. The policy
/// still decides on the real path, and a held request keeps it to send it as approved.
/// </summary>
internal static class StoredTarget
{
    private static readonly MaskingPlan Secrets = new(
        [],
        Detectors.Groups["secrets"].Select(name => Detectors.TryGet(name, out var d) ? new DetectorRule(d, MaskAction.Redact) : throw new InvalidOperationException(name)),
        hashKey: null);

    // One masker per thread: it keeps working buffers, and Mask runs synchronously.
    [ThreadStatic]
    private static ValueMasker? t_masker;

    public static string Path(string path) => Redact(path)!;

    public static string? Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }

        var masker = t_masker ??= new ValueMasker(Secrets, new MaskCounts());
        return masker.Mask(text, out var masked) == ValueMasker.Outcome.Unchanged ? text : masked;
    }
}
