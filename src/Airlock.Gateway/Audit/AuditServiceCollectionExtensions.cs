using Airlock.Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Airlock.Gateway.Audit;

internal static class AuditServiceCollectionExtensions
{
    /// <summary>
    /// The audit trail: its writer, the service the rest of the gateway records through, signed
    /// checkpoints and the tally of refusals. Register it before any other hosted service: hosted
    /// services start in the order they were added and stop in reverse, and the writer must run
    /// before anything records an event and drain after everything else has stopped. The tally
    /// comes after the checkpoints so that it stops, and writes its counts, before they sign.
    /// </summary>
    public static IServiceCollection AddAirlockAudit(this IServiceCollection services, AuditConfig audit)
    {
        services.AddSingleton<AuditWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditWriter>());
        services.AddSingleton<AuditTrail>();
        services.AddSingleton(audit);
        services.AddSingleton<AuditCheckpointService>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditCheckpointService>());
        services.AddSingleton<RefusalTally>();
        services.AddHostedService(sp => sp.GetRequiredService<RefusalTally>());
        return services;
    }
}
