using System.Text.RegularExpressions;

namespace Airlock.Gateway.Detection;

/// <summary>
/// Email addresses: a dot-atom local part, <c>@</c>, and a domain of at least two labels whose
/// last is two or more letters. Quoted local parts and IP-literal domains are not looked for.
/// </summary>
internal sealed partial class EmailDetector() : RegexDetector("email", "EMAIL", Pattern())
{
    public override DetectorSignals Needs => DetectorSignals.Email;

    protected override bool MightContain(ReadOnlySpan<char> text) => text.Contains('@');

    [GeneratedRegex(@"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9_%+\-]+(?:\.[A-Za-z0-9_%+\-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![A-Za-z0-9\-])",
        RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
