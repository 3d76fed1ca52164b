namespace Airlock.Gateway.Forwarding;

/// <summary>
/// The upstream closed (or reset) the connection after the request was written and before any
/// byte of an answer: the request may have reached it. Raised by
/// <see cref="UpstreamConnectionStream"/> in place of the end of stream .NET's handler would
/// take as a reason to send the request again by itself.
/// </summary>
internal sealed class UpstreamClosedException : IOException
{
    public UpstreamClosedException()
        : base("the upstream closed the connection without answering")
    {
    }

    public UpstreamClosedException(Exception inner)
        : base("the upstream reset the connection without answering", inner)
    {
    }
}
