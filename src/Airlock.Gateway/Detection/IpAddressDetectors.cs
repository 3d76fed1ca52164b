using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Airlock.Gateway.Detection;

/// <summary>IPv4 addresses in dotted-decimal form, each part 0–255. A longer dotted run (a
/// version string like 1.2.3.4.5) is not an address.</summary>
internal sealed partial class Ipv4Detector() : RegexDetector("ipv4", "IPV4", Pattern())
{
    public override DetectorSignals Needs => DetectorSignals.Ipv4;

    protected override bool MightContain(ReadOnlySpan<char> text) => text.Contains('.');

    [GeneratedRegex(@"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}

/// <summary>IPv6 addresses, full or compressed (<c>::</c>), with an embedded IPv4 tail or a
/// zone; a candidate must parse as IPv6, so times (12:30:45) and MAC addresses are left alone.</summary>
internal sealed partial class Ipv6Detector() : RegexDetector("ipv6", "IPV6", Pattern(), IsIpv6)
{
    public override DetectorSignals Needs => DetectorSignals.Ipv6;

    protected override bool MightContain(ReadOnlySpan<char> text) => text.IndexOf(':') is var first && first >= 0 && text[(first + 1)..].Contains(':');

    private static bool IsIpv6(ReadOnlySpan<char> candidate) =>
        candidate.ContainsAnyExcept(':') && IPAddress.TryParse(candidate, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6;

    [GeneratedRegex(@"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?:%[0-9A-Za-z]{1,16})?(?![\w:.])", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
