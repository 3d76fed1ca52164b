using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Airlock.Gateway.Hosting;

/// <summary>
/// Which listener a connection arrived on. Kestrel tags each connection when it is accepted,
/// so the split between the proxy and the admin pipelines holds even when both listeners bind
/// port 0 or share an address.
/// </summary>
internal static class Listener
{
    public const string Proxy = "proxy";
    public const string Admin = "admin";
    private static readonly object ItemKey = new();

    public static ListenOptions Tag(this ListenOptions options, string listener)
    {
        options.Use(next => connection =>
        {
            connection.Items[ItemKey] = listener;
            return next(connection);
        });
        return options;
    }

    public static string? Of(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(ItemKey, out var value) == true ? value as string : null;

    public static bool IsProxy(HttpContext context) => ReferenceEquals(Of(context), Proxy);
}
