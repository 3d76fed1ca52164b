using System.Globalization;
using System.Threading.RateLimiting;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Sessions;
using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.RateLimiting;

/// <summary>
/// What the two rate limits share: a token bucket per configured limit, replenished once per
/// period with no queue, and the 429 problem with <c>Retry-After</c> that refuses a request over
/// it. Refusals are counted for the audit trail (<see cref="Audit.RefusalTally"/>) by the
/// middleware, not recorded one by one: their number is the caller's to choose, and a limit
/// must not turn a flood into a flood of writes.
/// </summary>
internal static class RateLimitRefusal
{
    public static TokenBucketRateLimiterOptions Bucket(RateLimit limit) => new()
    {
        TokenLimit = limit.Requests,
        TokensPerPeriod = limit.Requests,
        ReplenishmentPeriod = limit.Per,
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    public static async Task WriteAsync(HttpContext context, SessionFeature session, RateLimitLease lease, string why)
    {
        session.Error = ProblemType.RateLimited.Name;
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        await ProblemWriter.WriteAsync(context, ProblemType.RateLimited, $"{why}; try again in {seconds} s", session.Id,
            headers: h => h.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture));
    }
}
