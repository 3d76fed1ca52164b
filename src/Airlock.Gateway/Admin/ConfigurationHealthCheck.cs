using Airlock.Gateway.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Airlock.Gateway.Admin;

/// <summary>Reports which configuration file is in force and how many connections it has.</summary>
internal sealed class ConfigurationHealthCheck(AirlockConfig config) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(HealthCheckResult.Healthy($"loaded {config.SourcePath} with {config.Connections.Length} connection(s)"));
}
