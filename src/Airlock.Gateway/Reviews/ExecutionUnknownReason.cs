namespace Airlock.Gateway.Reviews;

/// <summary>
/// Why an approved request's execution became <c>execution-unknown</c>, as stored on the review,
/// and the sentence that tells the requester what happened: the upstream closing without an
/// answer is not the gateway stopping, and neither is a result the store would not take.
/// </summary>
internal static class ExecutionUnknownReason
{
    public const string UpstreamClosed = "upstream-closed";
    public const string UpstreamTimeout = "upstream-timeout";
    public const string UpstreamError = "upstream-error";
    public const string GatewayStopped = "gateway-stopped";
    public const string ExecutorLost = "executor-lost";
    public const string ResultUnrecorded = "result-unrecorded";

    /// <summary>The problem's detail for a review in <c>execution-unknown</c>.</summary>
    public static string Describe(string? reason) => reason switch
    {
        UpstreamClosed => "the approved request was sent and the upstream closed the connection without answering; it may have acted on it",
        UpstreamTimeout => "the approved request was sent and the upstream did not answer within the connection's response timeout; it may have acted on it",
        UpstreamError => "the approved request was sent and the upstream's answer was cut off or was not valid HTTP; it may have acted on it",
        GatewayStopped => "the gateway stopped while the approved request was being sent; the upstream may have acted on it",
        ExecutorLost => "the gateway executing the approved request stopped before recording its result; the upstream may have acted on it",
        ResultUnrecorded => "the approved request was executed, but its result could not be recorded",
        _ => "whether the approved request reached the upstream is unknown",
    } + "; it will not be sent again by itself";
}
