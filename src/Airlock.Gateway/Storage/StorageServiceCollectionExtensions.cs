using Airlock.Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Airlock.Gateway.Storage;

internal static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// The store (SQLite or PostgreSQL, as configured) and each feature's narrow view of it, so a
    /// feature asks for the part it uses (<see cref="IReviewStore"/>, <see cref="ISessionStore"/>…)
    /// and all of them are the one store; and the health of its writes, which readiness reports.
    /// </summary>
    public static IServiceCollection AddAirlockStore(this IServiceCollection services, StoreConfig store)
    {
        services.AddSingleton(sp => StoreFactory.Create(store, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IAuditStore>(sp => sp.GetRequiredService<IAirlockStore>());
        services.AddSingleton<IApiKeyStore>(sp => sp.GetRequiredService<IAirlockStore>());
        services.AddSingleton<ISessionStore>(sp => sp.GetRequiredService<IAirlockStore>());
        services.AddSingleton<IReviewStore>(sp => sp.GetRequiredService<IAirlockStore>());
        services.AddSingleton<IPolicyEventStore>(sp => sp.GetRequiredService<IAirlockStore>());
        services.AddSingleton<StoreWriteHealth>();
        return services;
    }
}
