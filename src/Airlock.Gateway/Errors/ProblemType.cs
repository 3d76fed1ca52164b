namespace Airlock.Gateway.Errors;

/// <summary>
/// A kind of error the gateway answers with, as an RFC 9457 problem type. The <see cref="Name"/>
/// is stable: clients branch on <see cref="Uri"/>, and the list in docs/errors.md is the
/// contract.
/// </summary>
internal sealed record ProblemType(string Name, int Status, string Title)
{
    /// <summary>The stable <c>type</c> member: <c>urn:airlock:problem:&lt;name&gt;</c>.</summary>
    public string Uri { get; } = "urn:airlock:problem:" + Name;

    public static readonly ProblemType Unauthenticated = new("unauthenticated", 401, "Authentication required");
    public static readonly ProblemType InvalidRequestTarget = new("invalid-request-target", 400, "The request target is ambiguous or malformed");
    public static readonly ProblemType UnknownConnection = new("unknown-connection", 404, "No such connection");
    public static readonly ProblemType UpstreamUnreachable = new("upstream-unreachable", 502, "The upstream could not be reached");
    public static readonly ProblemType UpstreamTimeout = new("upstream-timeout", 504, "The upstream did not answer in time");
    public static readonly ProblemType UpstreamError = new("upstream-error", 502, "The upstream's response was not usable");
    public static readonly ProblemType RequestBodyError = new("request-body-error", 400, "The request body could not be read");
    public static readonly ProblemType InvalidMethod = new("invalid-method", 400, "The request method is not in canonical form");
    public static readonly ProblemType AmbiguousHeaderName = new("ambiguous-header-name", 400, "A request header's name could be read as another's");
    public static readonly ProblemType RateLimited = new("rate-limited", 429, "Too many requests");
    public static readonly ProblemType Denied = new("denied", 403, "Denied by policy");
    public static readonly ProblemType MaskedFieldQuery = new("masked-field-query", 403, "The request asks about a value the connection masks");
    public static readonly ProblemType BodyTooLarge = new("body-too-large", 413, "The request body is too large to inspect");
    public static readonly ProblemType UnsupportedContentEncoding = new("unsupported-content-encoding", 415, "The request body's content encoding cannot be inspected");
    public static readonly ProblemType InvalidBody = new("invalid-body", 400, "The request body could not be decoded");
    public static readonly ProblemType UnsupportedCharset = new("unsupported-charset", 415, "The request body's charset cannot be read as the upstream would read it");
    public static readonly ProblemType ResponseBlocked = new("response-blocked", 403, "The upstream's response was blocked by a guardrail");
    public static readonly ProblemType ResponseNotInspectable = new("response-not-inspectable", 502, "The upstream's response could not be inspected");
    public static readonly ProblemType ResponseNotMaskable = new("response-not-maskable", 502, "The upstream's response could not be masked");
    public static readonly ProblemType ReviewDenied = new("review-denied", 403, "An approver denied the request");
    public static readonly ProblemType ReviewExpired = new("review-expired", 403, "Nobody decided the request in time");
    public static readonly ProblemType ReviewNotFound = new("review-not-found", 404, "No such review");
    public static readonly ProblemType ReviewConflict = new("review-conflict", 409, "The review cannot take that decision now");
    public static readonly ProblemType ReviewRequestMismatch = new("review-request-mismatch", 409, "The decision names another request than the one held");
    public static readonly ProblemType ExecutionUnknown = new("execution-unknown", 502, "Whether the approved request reached the upstream is unknown");
    public static readonly ProblemType RecordingUnavailable = new("recording-unavailable", 503, "The gateway cannot record more requests right now");
    public static readonly ProblemType StoreUnavailable = new("store-unavailable", 503, "The gateway's store cannot be reached");
    public static readonly ProblemType AuditUnavailable = new("audit-unavailable", 503, "The decision could not be recorded in the audit trail");
    public static readonly ProblemType AuditChainBroken = new("audit-chain-broken", 409, "The audit trail is not what was signed and written");
    public static readonly ProblemType AuditSigningDisabled = new("audit-signing-disabled", 409, "No audit signing key is configured");
    public static readonly ProblemType InvalidRequest = new("invalid-request", 400, "The request is not valid");
    public static readonly ProblemType Forbidden = new("forbidden", 403, "Not allowed");
    public static readonly ProblemType NotFound = new("not-found", 404, "Not found");
    public static readonly ProblemType InternalError = new("internal-error", 500, "The gateway failed to handle the request");
}
