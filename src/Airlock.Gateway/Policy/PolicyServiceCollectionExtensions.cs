using Microsoft.Extensions.DependencyInjection;

namespace Airlock.Gateway.Policy;

internal static class PolicyServiceCollectionExtensions
{
    /// <summary>The policy in force, reloaded when its file changes (a hosted service).</summary>
    public static IServiceCollection AddAirlockPolicy(this IServiceCollection services)
    {
        services.AddSingleton<PolicyProvider>();
        services.AddHostedService(sp => sp.GetRequiredService<PolicyProvider>());
        return services;
    }
}
