using Airlock.Gateway.Configuration;
using Airlock.Gateway.Sessions;
using Microsoft.Extensions.DependencyInjection;

namespace Airlock.Gateway.Recording;

internal static class RecordingServiceCollectionExtensions
{
    /// <summary>The retention sweep of recorded exchanges.</summary>
    public static IServiceCollection AddAirlockRecordingRetention(this IServiceCollection services)
    {
        services.AddSingleton<RecordingRetention>();
        services.AddHostedService(sp => sp.GetRequiredService<RecordingRetention>());
        return services;
    }

    /// <summary>The writer that stores each session and its recorded exchange, in batches, off
    /// the request's path; its queue is bounded as configured.</summary>
    public static IServiceCollection AddAirlockSessionRecording(this IServiceCollection services, RecordingQueueConfig queue)
    {
        services.AddSingleton(queue);
        services.AddSingleton<SessionWriter>();
        services.AddSingleton<SessionLifecycle>();
        services.AddHostedService(sp => sp.GetRequiredService<SessionWriter>());
        return services;
    }
}
