using System.Globalization;
using System.Threading.RateLimiting;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Airlock.Gateway.RateLimiting;

/// <summary>
/// After identity and routing, before policy: a caller over <c>rateLimits.perIdentity</c>, or a
/// connection over its <c>rateLimit</c>, gets 429 problem+json with <c>Retry-After</c>, and the
/// request goes no further. Token buckets from <c>System.Threading.RateLimiting</c>, one per
/// subject and one per connection, replenished once per period. Refusals are counted for the
/// audit trail per caller and minute (<see cref="RefusalTally"/>), not recorded one by one: their
/// number is the caller's to choose, and a limit must not turn a flood into a flood of writes.
/// </summary>
public sealed class RateLimitMiddleware : IDisposable
{
    private readonly RequestDelegate _next;
    private readonly RefusalTally _refusals;
    private readonly PartitionedRateLimiter<string>? _perIdentity;
    private readonly Dictionary<string, TokenBucketRateLimiter> _perConnection = new(StringComparer.Ordinal);

    public RateLimitMiddleware(RequestDelegate next, AirlockConfig config, RefusalTally refusals)
    {
        _next = next;
        _refusals = refusals;
        if (config.PerIdentityRateLimit is { } limit)
        {
            _perIdentity = PartitionedRateLimiter.Create<string, string>(subject =>
                RateLimitPartition.GetTokenBucketLimiter(subject, _ => Bucket(limit)));
        }

        foreach (var connection in config.Connections)
        {
            if (connection.RateLimit is { } connectionLimit)
            {
                _perConnection[connection.Name] = new TokenBucketRateLimiter(Bucket(connectionLimit));
            }
        }
    }

    private static TokenBucketRateLimiterOptions Bucket(RateLimit limit) => new()
    {
        TokenLimit = limit.Requests,
        TokensPerPeriod = limit.Requests,
        ReplenishmentPeriod = limit.Per,
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    public async Task InvokeAsync(HttpContext context)
    {
        var session = context.Features.GetRequiredFeature<SessionFeature>();
        using var identityLease = _perIdentity?.AttemptAcquire(session.Identity!.Subject);
        if (identityLease is { IsAcquired: false })
        {
            _refusals.Count(context, session, ProblemType.RateLimited, "caller-limit", session.Identity);
            await RefuseAsync(context, session, identityLease, $"{session.Identity!.Subject} made more requests than its limit allows");
            return;
        }

        using var connectionLease = session.Connection is { } route && _perConnection.TryGetValue(route.Name, out var limiter) ? limiter.AttemptAcquire() : null;
        if (connectionLease is { IsAcquired: false })
        {
            _refusals.Count(context, session, ProblemType.RateLimited, "connection-limit", session.Identity);
            await RefuseAsync(context, session, connectionLease, $"connection '{session.Connection!.Name}' took more requests than its limit allows");
            return;
        }

        await _next(context);
    }

    private static async Task RefuseAsync(HttpContext context, SessionFeature session, RateLimitLease lease, string why)
    {
        session.Error = ProblemType.RateLimited.Name;
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        await ProblemWriter.WriteAsync(context, ProblemType.RateLimited, $"{why}; try again in {seconds} s", session.Id,
            headers: h => h.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture));
    }

    public void Dispose()
    {
        _perIdentity?.Dispose();
        foreach (var limiter in _perConnection.Values)
        {
            limiter.Dispose();
        }
    }
}
