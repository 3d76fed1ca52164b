namespace Airlock.Gateway.Audit;

/// <summary>The kinds of audit events; docs/audit.md lists what each carries.</summary>
internal static class AuditKinds
{
    public const string RequestAllowed = "request.allowed";
    public const string RequestDenied = "request.denied";
    public const string RequestGranted = "request.granted";
    public const string RequestRefused = "request.refused";
    public const string RequestsRefused = "requests.refused";
    public const string ResponseBlocked = "response.blocked";
    public const string ReviewOpened = "review.opened";
    public const string ReviewApproval = "review.approval";
    public const string ReviewApproved = "review.approved";
    public const string ReviewDenied = "review.denied";
    public const string ReviewExpired = "review.expired";
    public const string ReviewExecuted = "review.executed";
    public const string ReviewExecutionUnknown = "review.execution-unknown";
    public const string ReviewDecisionVoid = "review.decision-void";
    public const string GrantCreated = "grant.created";
    public const string GrantRevoked = "grant.revoked";
    public const string PolicyLoaded = "policy.loaded";
    public const string PolicyRejected = "policy.rejected";
    public const string KeyCreated = "apikey.created";
    public const string KeyRevoked = "apikey.revoked";
    public const string GatewayStarted = "gateway.started";
    public const string AuditInterrupted = "audit.interrupted";
}
