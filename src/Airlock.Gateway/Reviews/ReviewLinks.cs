using Airlock.Gateway.Configuration;

namespace Airlock.Gateway.Reviews;

/// <summary>
/// Where people open a review from a notification: the console's page of it,
/// <c>console.publicUrl</c> + <c>/reviews/{id}</c>; else the deprecated <c>reviews.links</c> + the
/// id. Never a bind address (<c>127.0.0.1:0</c>, <c>0.0.0.0</c> lead nowhere from a phone):
/// with neither configured a notification carries no link.
/// </summary>
internal static class ReviewLinks
{
    public static string? For(AirlockConfig config, Guid reviewId) =>
        config.Console is { } console ? console.ReviewLink(reviewId)
        : config.Reviews.LinkBase is { } links ? new Uri(links, reviewId.ToString()).ToString()
        : null;
}
