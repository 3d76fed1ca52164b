namespace Airlock.Gateway.Forwarding;

/// <summary>What is known of the upstream's side of a forwarded request.</summary>
internal enum UpstreamOutcome
{
    /// <summary>The upstream answered, and its answer was relayed whole.</summary>
    Answered,

    /// <summary>Nothing reached the upstream: the connection to it could not be made.</summary>
    NotSent,

    /// <summary>The request may have reached the upstream, which may have acted on it: no answer
    /// in time, a connection lost after sending, an answer that could not be relayed.</summary>
    Unknown,
}
