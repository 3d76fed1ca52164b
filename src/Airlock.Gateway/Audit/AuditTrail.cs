using System.Collections.Immutable;
using System.Globalization;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Identity;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Audit;

/// <summary>
/// What the rest of the gateway calls to write the audit trail: builds events from the
/// gateway's own records (sessions, reviews, grants) so every event carries its time, actor,
/// target, rule, policy version, review and session, and outcome the same way.
/// </summary>
internal sealed partial class AuditTrail(AuditWriter writer, TimeProvider timeProvider, ILogger<AuditTrail> logger)
{
    public static AuditActor? ActorOf(CallerIdentity? identity) =>
        identity is null ? null : new AuditActor(identity.Subject, identity.Groups, identity.AuthMethod);

    /// <summary>
    /// Records the decision on a request and waits until it is durable, before anything acts on
    /// it (policy's allow and deny, a review opened, a grant used). When the trail cannot take
    /// it, answers the caller 503 <c>audit-unavailable</c> and returns false: a decision that
    /// cannot be recorded is not acted on.
    /// </summary>
    public async Task<bool> RecordDecisionAsync(HttpContext context, SessionFeature session, string kind, string outcome, IReadOnlyDictionary<string, string>? detail)
    {
        try
        {
            // Not the caller's token: a decision made is recorded even if the caller has gone
            // (an already-cancelled token would refuse the event before it is queued).
            await writer.AppendAsync(RequestEvent(session, kind, outcome, detail), CancellationToken.None);
            return true;
        }
        catch (AuditUnavailableException)
        {
            session.Error = ProblemType.AuditUnavailable.Name;
            await ProblemWriter.WriteAsync(context, ProblemType.AuditUnavailable,
                "the gateway cannot record this request in its audit trail, so it does not act on it; try again later", session.Id);
            return false;
        }
    }

    /// <summary>
    /// Records that a known caller's request was refused before policy (an unknown connection, a
    /// review that is not theirs) and waits until it is durable, as a denial does. A refusal acts
    /// on nothing, so a trail that cannot take the event does not change the answer: the loss is
    /// logged with the session id instead. The wait is bounded: the writer answers at once while
    /// the store refuses writes, and within <see cref="AuditWriter.DurableWait"/> otherwise.
    /// </summary>
    public async Task RecordRefusalAsync(SessionFeature session, ProblemType problem)
    {
        try
        {
            // Not the caller's token: a caller that hangs up still leaves its refusal on record.
            await writer.AppendAsync(RequestEvent(session, AuditKinds.RequestRefused, "refused", new Dictionary<string, string>
            {
                ["problem"] = problem.Name,
                ["status"] = problem.Status.ToString(CultureInfo.InvariantCulture),
            }), CancellationToken.None);
        }
        catch (AuditUnavailableException ex)
        {
            Log.RefusalNotRecorded(logger, session.Id, problem.Name, ex.Message);
        }
    }

    /// <summary>
    /// Records that the upstream's response to an allowed request was withheld from the agent (a
    /// guardrail matched, or it could not be inspected or masked), before the agent is told. The
    /// upstream has acted already and withholding is the safe side, so a trail that cannot take
    /// the event now does not change the answer: it is queued and retried, like the events of
    /// other things already done.
    /// </summary>
    public async Task RecordResponseBlockedAsync(SessionFeature session, ProblemType problem, string? guardrail, int upstreamStatus, bool partial = false)
    {
        var detail = new Dictionary<string, string>
        {
            ["problem"] = problem.Name,
            ["upstreamStatus"] = upstreamStatus.ToString(CultureInfo.InvariantCulture),
        };
        if (guardrail is not null)
        {
            detail["guardrail"] = guardrail;
        }

        if (partial)
        {
            detail["partial"] = "true";
        }

        var auditEvent = RequestEvent(session, AuditKinds.ResponseBlocked, "blocked", detail);
        session.ResponseBlockRecorded = true;
        try
        {
            // Bounded: AppendAsync answers within AuditWriter.DurableWait.
            await writer.AppendAsync(auditEvent, CancellationToken.None);
        }
        catch (AuditUnavailableException ex)
        {
            Log.BlockQueued(logger, session.Id, ex.Message);
            // The queue can stay full while the store is down: the agent is answered after a
            // bounded wait, and an event that found no room is logged as lost.
            using var deadline = new CancellationTokenSource(AuditWriter.DurableWait, timeProvider);
            if (!await writer.EnqueueAsync(auditEvent, deadline.Token))
            {
                Log.BlockLost(logger, session.Id, problem.Name, upstreamStatus);
            }
        }
    }

    private AuditEvent RequestEvent(SessionFeature session, string kind, string outcome, IReadOnlyDictionary<string, string>? detail) =>
        new()
        {
            At = timeProvider.GetUtcNow(),
            Kind = kind,
            Actor = ActorOf(session.Identity),
            Target = new AuditTarget(session.Connection?.Name, session.Method, session.StoredPath),
            Rule = session.Decision?.Rule?.Name,
            PolicyVersion = session.Decision?.PolicyVersion,
            ReviewId = session.ReviewId,
            SessionId = session.Id,
            Outcome = outcome,
            Detail = Detail(detail),
        };

    /// <summary>An event about a review; <paramref name="actor"/> is who acted (null: the gateway).</summary>
    public AuditEvent ReviewEvent(Review review, string kind, string outcome, CallerIdentity? actor, IReadOnlyDictionary<string, string>? detail = null) => new()
    {
        At = timeProvider.GetUtcNow(),
        Kind = kind,
        Actor = ActorOf(actor) ?? Gateway,
        Target = new AuditTarget(review.Request.Connection, review.Request.Method, Recording.StoredTarget.Path(review.Request.Path)),
        Rule = review.Rule,
        PolicyVersion = review.PolicyVersion,
        ReviewId = review.Id,
        SessionId = review.SessionId,
        Outcome = outcome,
        Detail = Detail(new Dictionary<string, string>(detail ?? new Dictionary<string, string>()) { ["requester"] = review.Requester.Subject }),
    };

    /// <summary>An event with no request or review behind it (policy loads, keys, grants).</summary>
    public AuditEvent Event(string kind, string outcome, AuditActor? actor, IReadOnlyDictionary<string, string>? detail = null, string? connection = null,
        string? rule = null, string? policyVersion = null) => new()
    {
        At = timeProvider.GetUtcNow(),
        Kind = kind,
        Actor = actor ?? Gateway,
        Target = connection is null ? null : new AuditTarget(connection, null, null),
        Rule = rule,
        PolicyVersion = policyVersion,
        Outcome = outcome,
        Detail = Detail(detail),
    };

    /// <summary>
    /// An API key created or revoked: which key (id, name, groups, owner; never its secret), by
    /// whom, when. Static because the CLI, which manages keys on the store directly, writes it
    /// without a running gateway.
    /// </summary>
    public static AuditEvent ApiKeyEvent(string kind, string outcome, Identity.ApiKeys.ApiKey key, AuditActor actor, DateTimeOffset at)
    {
        var detail = new Dictionary<string, string>
        {
            ["keyId"] = key.Id,
            ["name"] = key.Name,
            ["groups"] = string.Join(',', key.Groups),
        };
        if (key.Owner is { } owner)
        {
            detail["owner"] = owner;
        }

        return new AuditEvent { At = at, Kind = kind, Actor = actor, Outcome = outcome, Detail = Detail(detail) };
    }

    /// <summary>Records and waits until durable (throws <see cref="AuditUnavailableException"/>).</summary>
    public Task RecordAsync(AuditEvent auditEvent, CancellationToken cancellationToken) => writer.AppendAsync(auditEvent, cancellationToken);

    /// <summary>Records without waiting; retried until the store takes it.</summary>
    public void Record(AuditEvent auditEvent) => writer.Enqueue(auditEvent);

    /// <summary>The gateway itself, for what happens by time or by configuration.</summary>
    public static AuditActor Gateway { get; } = new("airlock", [], "system");

    private static ImmutableSortedDictionary<string, string> Detail(IReadOnlyDictionary<string, string>? detail) =>
        detail is null ? ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal)
            : detail.ToImmutableSortedDictionary(StringComparer.Ordinal);

    private static partial class Log
    {
        [LoggerMessage(6010, LogLevel.Error, "Session {SessionId}: refused ({Problem}), but the refusal could not be recorded in the audit trail: {Reason}")]
        public static partial void RefusalNotRecorded(ILogger logger, Guid sessionId, string problem, string reason);

        [LoggerMessage(6011, LogLevel.Warning, "Session {SessionId}: the response.blocked event could not be written now ({Reason}); it is queued and retried")]
        public static partial void BlockQueued(ILogger logger, Guid sessionId, string reason);

        [LoggerMessage(6015, LogLevel.Critical, "Session {SessionId}: the response was withheld ({Problem}, upstream status {UpstreamStatus}), but the audit trail's queue stayed full and its response.blocked event was lost")]
        public static partial void BlockLost(ILogger logger, Guid sessionId, string problem, int upstreamStatus);
    }
}
