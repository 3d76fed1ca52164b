using System.Threading.RateLimiting;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Airlock.Gateway.RateLimiting;

/// <summary>
/// Right after identity, before anything else the caller's request can cost: a caller over
/// <c>rateLimits.perIdentity</c> gets 429, counted (<see cref="RefusalTally"/>), and the request
/// goes no further. Every later stage that writes an event of its own for a request (an unknown
/// connection, a review that is not the caller's, a header refused, a decision) runs only for
/// requests the limit admitted, so the limit bounds what a known caller can add to the audit
/// trail (docs/audit.md). Its requests to <c>/api/reviews/…</c> count too. One token bucket per
/// subject.
/// </summary>
internal sealed class CallerRateLimitMiddleware : IDisposable
{
    private readonly RequestDelegate _next;
    private readonly RefusalTally _refusals;
    private readonly PartitionedRateLimiter<string>? _perIdentity;

    public CallerRateLimitMiddleware(RequestDelegate next, AirlockConfig config, RefusalTally refusals)
    {
        _next = next;
        _refusals = refusals;
        if (config.PerIdentityRateLimit is { } limit)
        {
            _perIdentity = PartitionedRateLimiter.Create<string, string>(subject =>
                RateLimitPartition.GetTokenBucketLimiter(subject, _ => RateLimitRefusal.Bucket(limit)));
        }
    }

    public async Task InvokeAsync(HttpContext context)
    {
        if (_perIdentity is null)
        {
            await _next(context);
            return;
        }

        var session = context.Features.GetRequiredFeature<SessionFeature>();
        var caller = context.Features.GetRequiredFeature<Identity.CallerFeature>().Caller;
        using var lease = _perIdentity.AttemptAcquire(caller.Subject);
        if (!lease.IsAcquired)
        {
            _refusals.Count(context, session, ProblemType.RateLimited, "caller-limit", caller);
            await RateLimitRefusal.WriteAsync(context, session, lease, $"{caller.Subject} made more requests than its limit allows");
            return;
        }

        await _next(context);
    }

    public void Dispose() => _perIdentity?.Dispose();
}
