using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Airlock.Gateway.Policy;

/// <summary>
/// Reports the policy in force. A rejected reload makes the gateway "degraded", not unready:
/// it keeps enforcing the last good policy, and taking it out of service would turn an
/// operator's typo into an outage.
/// </summary>
internal sealed class PolicyHealthCheck(PolicyProvider policies) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var current = policies.Current;
        var data = new Dictionary<string, object>
        {
            ["version"] = current.Version,
            ["loadedAt"] = policies.LoadedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        };
        if (policies.LastFailure is { } failure)
        {
            data["rejectedVersion"] = failure.Version;
            data["rejectedAt"] = failure.At.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
            data["errors"] = failure.Errors.Select(e => e.ToString()).ToArray();
            return Task.FromResult(HealthCheckResult.Degraded(
                $"the reload of {current.SourcePath} was rejected with {failure.Errors.Count} error(s); still enforcing {current.Version}", data: data));
        }

        return Task.FromResult(HealthCheckResult.Healthy($"enforcing {current.Version}: {current.Rules.Length} rule(s)", data));
    }
}
