namespace Airlock.Gateway.Configuration;

/// <summary>
/// A named upstream an agent can reach at <c>/{name}/{**path}</c>, and the credential the
/// gateway injects on the way out so that the agent never holds it.
/// </summary>
public sealed record ConnectionConfig
{
    public required string Name { get; init; }

    /// <summary>The upstream base URL; it replaces <c>/{name}</c> in the caller's path.</summary>
    public required Uri Upstream { get; init; }

    /// <summary>How long to wait for a TCP (and TLS) connection to the upstream.</summary>
    public required TimeSpan ConnectTimeout { get; init; }

    /// <summary>
    /// How long the upstream may stay silent: waiting for response headers, or between two
    /// reads or writes of a body. A stream that keeps moving is never cut.
    /// </summary>
    public required TimeSpan ResponseTimeout { get; init; }

    public required UpstreamCredential Credential { get; init; }

    /// <summary>How many more times an idempotent request without a body is sent when nothing of
    /// an answer came back (unreachable, or closed before answering); 0, the default: never.</summary>
    public int Retries { get; init; }

    /// <summary>How many requests the connection takes from all callers together; null: no limit.</summary>
    public RateLimit? RateLimit { get; init; }

    /// <summary>What the connection's recordings keep, and for how long.</summary>
    public RecordingConfig Recording { get; init; } = RecordingConfig.Default;

    /// <summary>What to mask out of this connection's responses; null: nothing is masked.</summary>
    public MaskingConfig? Masking { get; init; }

    /// <summary>What becomes of a request header whose name has an underscore (or another
    /// character but letters, digits and '-'), which CGI-style upstreams read as another's.</summary>
    public OddHeaderNames HeadersWithUnderscores { get; init; } = OddHeaderNames.Drop;
}

/// <summary>What a connection does with a request header an upstream could read under another name.</summary>
public enum OddHeaderNames
{
    /// <summary>Removed before policy and forwarding, as nginx does by default.</summary>
    Drop,

    /// <summary>The request is refused with 400 <c>ambiguous-header-name</c>.</summary>
    Refuse,
}
