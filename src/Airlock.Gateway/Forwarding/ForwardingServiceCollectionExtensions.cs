using Airlock.Gateway.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Airlock.Gateway.Forwarding;

internal static class ForwardingServiceCollectionExtensions
{
    /// <summary>
    /// Sending a decided request upstream and bringing its answer back: the connections, the
    /// request transform that injects the upstream credential, YARP's forwarder, and what the
    /// answer passes through on its way to the agent (response guardrails, masking, and the
    /// scrubbing of an injected credential echoed back).
    /// </summary>
    public static IServiceCollection AddAirlockForwarding(this IServiceCollection services)
    {
        services.AddSingleton<ConnectionCatalog>();
        services.AddSingleton<UpstreamRequestTransformer>();
        services.AddSingleton<UpstreamForwarder>();
        services.AddSingleton<Policy.ResponseGuardrailInspector>();
        services.AddSingleton<Masking.ResponseMasker>();
        services.AddSingleton<Masking.ResponseScrubber>();
        services.AddHttpForwarder();
        return services;
    }
}
