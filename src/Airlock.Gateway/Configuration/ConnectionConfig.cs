namespace Airlock.Gateway.Configuration;

/// <summary>
/// A named upstream an agent can reach at <c>/{name}/{**path}</c>, and the credential the
/// gateway injects on the way out so that the agent never holds it.
/// </summary>
internal sealed record ConnectionConfig
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

    /// <summary>
    /// How long a pooled upstream connection may stay idle before the gateway closes it. It must
    /// stay below the upstream's own keep-alive timeout: an upstream that closes a connection just
    /// as a request goes out on it leaves that request "sent, maybe acted on, unanswered" (502,
    /// or execution-unknown for an approved one). .NET closes idle connections on a timer that
    /// runs every quarter of this, but no more often than once a second, so one may be reused up
    /// to a second (or a quarter of this, if longer) later than this: the default, 500 ms, keeps
    /// reuse under 1.5 s, below gunicorn's 2 s (Node's and Apache's 5 s). Zero (<c>0s</c>): a
    /// new connection for every request.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = DefaultIdleTimeout;

    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMilliseconds(500);

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
internal enum OddHeaderNames
{
    /// <summary>Removed before policy and forwarding, as nginx does by default.</summary>
    Drop,

    /// <summary>The request is refused with 400 <c>ambiguous-header-name</c>.</summary>
    Refuse,
}
