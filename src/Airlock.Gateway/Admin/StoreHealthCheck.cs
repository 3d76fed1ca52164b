using Airlock.Gateway.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Airlock.Gateway.Admin;

/// <summary>Ready only while the store answers: a gateway that cannot record must not take traffic.</summary>
public sealed class StoreHealthCheck(IAirlockStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await store.PingAsync(timeout.Token);
            return HealthCheckResult.Healthy($"{store.Engine} store reachable");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The exception's message may hold a connection detail; say only what failed.
            return HealthCheckResult.Unhealthy($"{store.Engine} store unreachable ({ex.GetType().Name})");
        }
    }
}
