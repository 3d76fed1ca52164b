using Airlock.Gateway.Identity;
using Airlock.Gateway.Policy;
using Airlock.Gateway.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Airlock.Gateway.Sessions;

/// <summary>
/// What the gateway has established about the request in flight, carried on the
/// <see cref="Microsoft.AspNetCore.Http.HttpContext"/> from one pipeline stage to the next and
/// turned into a <see cref="SessionRecord"/> when the exchange ends. It holds only what the
/// session itself accumulates and any stage may add to (path, error, counts, upstream attempts);
/// what one stage establishes for later ones is that stage's own feature on the request
/// (<see cref="CallerFeature"/>, <see cref="RouteFeature"/>, <see cref="DecisionFeature"/>,
/// <see cref="Reviews.ReviewFeature"/>, <see cref="Recording.RecordingFeature"/>), which the
/// read-only properties here look up for the audit trail and the record.
/// </summary>
internal sealed class SessionFeature
{
    private readonly IFeatureCollection _features;

    public SessionFeature(IFeatureCollection features, Guid id, DateTimeOffset startedAt, long startTimestamp, string method, string rawPath)
    {
        _features = features;
        Id = id;
        StartedAt = startedAt;
        StartTimestamp = startTimestamp;
        Method = method;
        Path = rawPath;
    }

    public Guid Id { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>A <see cref="TimeProvider.GetTimestamp"/> value, for durations.</summary>
    public long StartTimestamp { get; }

    public string Method { get; }

    /// <summary>The normalised path once normalisation has run; the raw path before.</summary>
    public string Path { get; set; }

    private (string Source, string Stored)? _storedPath;

    /// <summary>
    /// <see cref="Path"/> as it is written down (session, audit trail): secret-format values
    /// redacted. Worked out once, though both the audit event and the session record need it.
    /// </summary>
    public string StoredPath
    {
        get
        {
            if (_storedPath is not { } cached || !ReferenceEquals(cached.Source, Path))
            {
                _storedPath = cached = (Path, Recording.StoredTarget.Path(Path));
            }

            return cached.Stored;
        }
    }

    public string? Query { get; set; }

    /// <summary>The connection the request is for, once routing has run.</summary>
    public ConnectionRoute? Connection => _features.Get<RouteFeature>()?.Connection;

    /// <summary>Who is calling, once identity has run.</summary>
    public CallerIdentity? Identity => _features.Get<CallerFeature>()?.Caller;

    /// <summary>
    /// The decision the session records and the audit trail names: the action the review stage
    /// settled on when it has one (a grant or an approval allows; a request that cannot be held
    /// is denied), else the policy's. Null until policy has run. The one place the two combine.
    /// </summary>
    public PolicyDecision? Decision
    {
        get
        {
            if (_features.Get<DecisionFeature>() is not { } decided)
            {
                return null;
            }

            return _features.Get<Reviews.ReviewFeature>()?.Action is { } settled ? decided.Decision with { Action = settled } : decided.Decision;
        }
    }

    /// <summary>The review this request opened, waited on, or asked about.</summary>
    public Guid? ReviewId => _features.Get<Reviews.ReviewFeature>()?.ReviewId;

    /// <summary>The grant that let this request through without a new review.</summary>
    public Guid? GrantId => _features.Get<Reviews.ReviewFeature>()?.GrantId;

    /// <summary>Set once a <c>response.blocked</c> event is on its way for this request, so a
    /// failure noticed later (masking cut short mid-stream) does not record a second one.</summary>
    public bool ResponseBlockRecorded { get; set; }

    /// <summary>The short name of the problem the gateway answered with, if any.</summary>
    public string? Error { get; set; }

    /// <summary>What masking took out of the response, when the connection masks.</summary>
    public Masking.MaskCounts? Masked { get; set; }

    /// <summary>
    /// What masks this exchange: the connection's masking, with the deciding rule's <c>mask</c>
    /// added (null when neither masks anything). The rule is the policy's: a review settles the
    /// action, never the rule.
    /// </summary>
    public Configuration.MaskingConfig? Masking =>
        _features.Get<DecisionFeature>()?.Decision.Rule is { } rule && Connection is { } connection
            ? rule.MaskingOn(connection.Name, connection.Config.Masking)
            : Connection?.Config.Masking;

    public long? UpstreamStartTimestamp { get; set; }

    /// <summary>
    /// What became of each attempt to send the request upstream, in order and comma-separated
    /// (<c>answered</c>, <c>closed</c>, <c>unreachable</c>, <c>cancelled</c>, <c>failed</c>);
    /// null when it was never sent. One attempt unless the connection allows retries.
    /// </summary>
    public string? UpstreamAttempts { get; private set; }

    /// <summary>Whether an attempt got past connecting, so the upstream may have the request.</summary>
    public bool UpstreamMayHaveReceived { get; private set; }

    public void AddUpstreamAttempt(string outcome)
    {
        // One attempt, the usual case, stores the constant as it is.
        UpstreamAttempts = UpstreamAttempts is null ? outcome : string.Concat(UpstreamAttempts, ",", outcome);
        UpstreamMayHaveReceived |= outcome != Forwarding.UpstreamFailure.Unreachable;
    }

    public long? UpstreamEndTimestamp { get; set; }

    public long RequestBytes { get; set; }

    public long ResponseBytes { get; set; }

    /// <summary>The stored record of this session, as it ends.</summary>
    public SessionRecord ToRecord(HttpContext context, TimeProvider timeProvider)
    {
        var now = timeProvider.GetTimestamp();
        var identity = Identity;
        return new SessionRecord
        {
            Id = Id,
            StartedAt = StartedAt,
            Duration = timeProvider.GetElapsedTime(StartTimestamp, now),
            Method = Method,
            Path = StoredPath,
            Status = context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted ? 499 : context.Response.StatusCode,
            Connection = Connection?.Name,
            Subject = identity?.Subject,
            AuthMethod = identity?.AuthMethod,
            Issuer = identity?.Issuer,
            KeyName = identity?.KeyName,
            KeyId = identity?.KeyId,
            Groups = identity?.Groups ?? [],
            ClientAddress = context.Connection.RemoteIpAddress?.ToString(),
            RequestBytes = RequestBytes,
            ResponseBytes = ResponseBytes,
            UpstreamDuration = UpstreamStartTimestamp is { } start ? timeProvider.GetElapsedTime(start, UpstreamEndTimestamp ?? now) : null,
            UpstreamAttempts = UpstreamAttempts,
            Error = Error,
            Decision = Decision is { } d ? d.Action.ToString().ToLowerInvariant() : null,
            Rule = Decision?.RuleName,
            PolicyVersion = Decision?.PolicyVersion,
            ReviewId = ReviewId,
            Exchange = Recording.ExchangeRecorder.From(this, context),
            Masked = Masked?.Total ?? 0,
            MaskedTypes = Masked is { Total: > 0 } m ? m.ToJson() : null,
            GrantId = GrantId,
        };
    }
}
