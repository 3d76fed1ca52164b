using System.Globalization;
using Airlock.Gateway.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Airlock.Gateway.Admin;

/// <summary>
/// Ready only while the store answers and takes the gateway's writes: a gateway that cannot
/// record must not take traffic. Reads are probed (a cheap query); writes are judged from the
/// outcomes of the writes the gateway makes anyway (<see cref="StoreWriteHealth"/>), never by a
/// write per probe.
/// </summary>
internal sealed class StoreHealthCheck(IAirlockStore store, StoreWriteHealth writes) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await store.PingAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The exception's message may hold a connection detail; say only what failed.
            return HealthCheckResult.Unhealthy($"{store.Engine} store unreachable ({ex.GetType().Name})");
        }

        if (writes.Failing is { } failing)
        {
            return HealthCheckResult.Unhealthy(string.Create(CultureInfo.InvariantCulture,
                $"{store.Engine} store refuses writes: the last {failing.Failures} {Name(failing.Writer)} write(s) failed, since {failing.Since:O} ({failing.LastError})"));
        }

        return HealthCheckResult.Healthy($"{store.Engine} store reachable");
    }

    private static string Name(StoreWriter writer) => writer == StoreWriter.Audit ? "audit" : "session";
}
