using Airlock.Gateway.Configuration;
using Airlock.Gateway.Reviews.Webhooks;
using Airlock.Gateway.Storage;
using Airlock.Gateway.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Reviews;

internal static class ReviewServiceCollectionExtensions
{
    /// <summary>
    /// Held requests and their approval: how a decision reaches the request waiting for it (in
    /// this process, or from other replicas through PostgreSQL's LISTEN/NOTIFY), deciding,
    /// executing an approved request exactly once, the sweep that expires reviews and finds
    /// abandoned executions, and the webhooks that tell approvers.
    /// </summary>
    public static IServiceCollection AddAirlockReviews(this IServiceCollection services, StoreConfig store)
    {
        services.AddSingleton<ReviewSignals>();
        if (store is PostgresStoreConfig)
        {
            services.AddSingleton(sp => new PostgresReviewNotifications(
                (PostgresStore)sp.GetRequiredService<IAirlockStore>(), sp.GetRequiredService<ReviewSignals>(),
                sp.GetRequiredService<ILogger<PostgresReviewNotifications>>()));
            services.AddSingleton<IReviewNotifications>(sp => sp.GetRequiredService<PostgresReviewNotifications>());
            services.AddHostedService(sp => sp.GetRequiredService<PostgresReviewNotifications>());
        }
        else
        {
            services.AddSingleton<IReviewNotifications, InProcessReviewNotifications>();
        }

        services.AddSingleton<ReviewService>();
        services.AddSingleton<ReviewExecutor>();
        services.AddSingleton<ReviewMaintenance>();
        services.AddHostedService(sp => sp.GetRequiredService<ReviewMaintenance>());
        services.AddSingleton<WebhookNotifier>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookNotifier>());
        services.AddHttpClient(WebhookNotifier.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        return services;
    }
}
