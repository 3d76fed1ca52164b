using System.Collections.Frozen;
using System.Collections.Immutable;

namespace Airlock.Gateway.Detection;

/// <summary>The detectors configuration can name, by their stable names.</summary>
internal static class Detectors
{
    /// <summary>Every built-in detector, in the order ties between overlapping finds go.</summary>
    public static readonly ImmutableArray<IDetector> All =
    [
        new PrivateKeyDetector(), new JwtDetector(), new AwsAccessKeyDetector(), new GitHubTokenDetector(), new SecretKeyDetector(),
        new EmailDetector(), new PaymentCardDetector(), new IbanDetector(), new UsSsnDetector(), new Ipv6Detector(), new Ipv4Detector(),
        new PhoneDetector(),
    ];

    /// <summary>Names that stand for several detectors.</summary>
    public static readonly FrozenDictionary<string, ImmutableArray<string>> Groups = new Dictionary<string, ImmutableArray<string>>
    {
        ["secrets"] = ["private-key", "jwt", "aws-access-key", "github-token", "secret-key"],
        ["pii"] = ["email", "phone", "payment-card", "iban", "us-ssn", "ipv4", "ipv6"],
        ["all"] = [.. All.Select(d => d.Name)],
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, IDetector> ByName = All.ToFrozenDictionary(d => d.Name, StringComparer.Ordinal);

    public static IEnumerable<string> Names => ByName.Keys.Order(StringComparer.Ordinal);

    public static bool TryGet(string name, out IDetector detector) => ByName.TryGetValue(name, out detector!);

    /// <summary>True when the detector finds at least one value in the text.</summary>
    public static bool Any(this IDetector detector, ReadOnlySpan<char> text)
    {
        var any = false;
        detector.Find(text, (_, _) =>
        {
            any = true;
            return false;
        });
        return any;
    }
}
