using Airlock.Gateway.Configuration;
using Airlock.Gateway.Reviews;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Airlock.Gateway.Telemetry;

internal static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// Metrics (scraped from the admin listener) and, when configured, traces. Both name their
    /// source: service "airlock", this process as the instance (the id of its gateway-started
    /// audit event, so <see cref="GatewayInstance"/> is registered here), and the version.
    /// Without it every series was "unknown_service:dotnet".
    /// </summary>
    public static IServiceCollection AddAirlockTelemetry(this IServiceCollection services, TracesConfig? traces, string version)
    {
        services.AddMetrics();
        services.AddSingleton<AirlockMetrics>();
        var instance = new GatewayInstance();
        services.AddSingleton(instance);
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("airlock", serviceVersion: version, serviceInstanceId: instance.Id))
            .WithMetrics(metrics => metrics
                .AddMeter(AirlockMetrics.MeterName)
                .AddPrometheusExporter());
        if (traces is not null)
        {
            telemetry.AddTracing(traces);
        }

        return services;
    }
}
