namespace Airlock.Gateway.Forwarding;

/// <summary>What a failed attempt to reach an upstream tells about the upstream's side.</summary>
internal static class UpstreamFailure
{
    /// <summary>Outcomes of one attempt, as the session records them (docs/recording.md).</summary>
    public const string Answered = "answered";
    public const string Closed = "closed";
    public const string Unreachable = "unreachable";
    public const string Cancelled = "cancelled";
    public const string Failed = "failed";

    /// <summary>
    /// Whether the failure came before any byte could reach the upstream (name resolution, the
    /// TCP or TLS connection). Anything later (a reset after sending, no answer in time) may have
    /// left the upstream having acted.
    /// </summary>
    public static bool NeverConnected(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError
                or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The upstream closed or reset the connection after the request was written, before
    /// any byte of an answer (<see cref="UpstreamConnectionStream"/>).</summary>
    public static bool ClosedWithoutAnswer(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is UpstreamClosedException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The outcome of an attempt that threw.</summary>
    public static string OutcomeOf(Exception exception) =>
        ClosedWithoutAnswer(exception) ? Closed
        : NeverConnected(exception) ? Unreachable
        : exception is OperationCanceledException ? Cancelled
        : Failed;
}
