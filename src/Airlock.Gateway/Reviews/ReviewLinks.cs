using Airlock.Gateway.Configuration;

namespace Airlock.Gateway.Reviews;

/// <summary>Where people open a review: <c>reviews.links</c> + the id, or the admin API's address.</summary>
public static class ReviewLinks
{
    public static string For(AirlockConfig config, Guid reviewId) =>
        config.Reviews.LinkBase is { } links
            ? new Uri(links, reviewId.ToString()).ToString()
            : $"http://{config.Listeners.Admin}/api/reviews/{reviewId}";
}
