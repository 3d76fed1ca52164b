using System.Text.RegularExpressions;

namespace Airlock.Gateway.Detection;

/// <summary>JSON Web Tokens: three base64url parts, the first two encoding JSON objects
/// (so starting <c>eyJ</c>, the encoding of <c>{"</c>).</summary>
internal sealed partial class JwtDetector() : RegexDetector("jwt", "JWT", Pattern())
{
    public override DetectorSignals Needs => DetectorSignals.Jwt;

    protected override bool MightContain(ReadOnlySpan<char> text) => text.Contains("eyJ", StringComparison.Ordinal);

    [GeneratedRegex(@"(?<![\w\-])eyJ[A-Za-z0-9_\-]{2,}\.eyJ[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]*(?![\w\-])", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}

/// <summary>AWS access key ids: <c>AKIA</c> (long-term) or <c>ASIA</c> (temporary) and 16 more.</summary>
internal sealed partial class AwsAccessKeyDetector() : RegexDetector("aws-access-key", "AWS-KEY", Pattern())
{
    public override DetectorSignals Needs => DetectorSignals.AwsAccessKey;

    protected override bool MightContain(ReadOnlySpan<char> text) => text.Contains("IA", StringComparison.Ordinal);

    [GeneratedRegex(@"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}

/// <summary>GitHub tokens: <c>ghp_</c>, <c>gho_</c>, <c>ghu_</c>, <c>ghs_</c>, <c>ghr_</c> and
/// fine-grained <c>github_pat_</c>.</summary>
internal sealed partial class GitHubTokenDetector() : RegexDetector("github-token", "GITHUB-TOKEN", Pattern())
{
    public override DetectorSignals Needs => DetectorSignals.GitHubToken;

    protected override bool MightContain(ReadOnlySpan<char> text) => text.Contains("gh", StringComparison.Ordinal) || text.Contains("github_pat_", StringComparison.Ordinal);

    [GeneratedRegex(@"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244})(?![A-Za-z0-9_])", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}

/// <summary>API secret keys of the <c>sk-</c> form (OpenAI, Anthropic and others, including
/// <c>sk-proj-</c> and <c>sk-ant-</c>): <c>sk-</c> and at least 20 more key characters.</summary>
internal sealed partial class SecretKeyDetector() : RegexDetector("secret-key", "SECRET-KEY", Pattern())
{
    public override DetectorSignals Needs => DetectorSignals.SecretKey;

    protected override bool MightContain(ReadOnlySpan<char> text) => text.Contains("sk-", StringComparison.Ordinal);

    [GeneratedRegex(@"(?<![A-Za-z0-9_\-])sk-[A-Za-z0-9_\-]{20,250}(?![A-Za-z0-9_\-])", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}

/// <summary>PEM private keys, from the BEGIN line to the matching END line (any key type:
/// RSA, EC, OPENSSH, ENCRYPTED, plain PKCS#8).</summary>
internal sealed partial class PrivateKeyDetector() : RegexDetector("private-key", "PRIVATE-KEY", Pattern())
{
    public override DetectorSignals Needs => DetectorSignals.PrivateKey;

    protected override bool MightContain(ReadOnlySpan<char> text) => text.Contains("-----BEGIN ", StringComparison.Ordinal);

    [GeneratedRegex(@"-----BEGIN ((?:[A-Z0-9]+ ){0,3})PRIVATE KEY-----[A-Za-z0-9+/=\s:,\-]{0,16384}?-----END \1PRIVATE KEY-----", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
