using System.Threading.RateLimiting;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Airlock.Gateway.RateLimiting;

/// <summary>
/// After routing, before policy: a connection over its <c>rateLimit</c> (all callers together)
/// answers 429, counted per caller and minute (<see cref="RefusalTally"/>), and the request goes
/// no further. One token bucket per connection that has a limit.
/// </summary>
internal sealed class ConnectionRateLimitMiddleware : IDisposable
{
    private readonly RequestDelegate _next;
    private readonly RefusalTally _refusals;
    private readonly Dictionary<string, TokenBucketRateLimiter> _perConnection = new(StringComparer.Ordinal);

    public ConnectionRateLimitMiddleware(RequestDelegate next, AirlockConfig config, RefusalTally refusals)
    {
        _next = next;
        _refusals = refusals;
        foreach (var connection in config.Connections)
        {
            if (connection.RateLimit is { } limit)
            {
                _perConnection[connection.Name] = new TokenBucketRateLimiter(RateLimitRefusal.Bucket(limit));
            }
        }
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var session = context.Features.GetRequiredFeature<SessionFeature>();
        var connection = context.Features.GetRequiredFeature<Routing.RouteFeature>().Connection;
        if (!_perConnection.TryGetValue(connection.Name, out var limiter))
        {
            await _next(context);
            return;
        }

        using var lease = limiter.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            _refusals.Count(context, session, ProblemType.RateLimited, "connection-limit", context.Features.GetRequiredFeature<Identity.CallerFeature>().Caller);
            await RateLimitRefusal.WriteAsync(context, session, lease, $"connection '{connection.Name}' took more requests than its limit allows");
            return;
        }

        await _next(context);
    }

    public void Dispose()
    {
        foreach (var limiter in _perConnection.Values)
        {
            limiter.Dispose();
        }
    }
}
