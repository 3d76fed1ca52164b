using Airlock.Gateway.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Airlock.Gateway.Console;

internal static class ConsoleServiceCollectionExtensions
{
    /// <summary>
    /// The console's services, when <c>console</c> is configured: static server rendering of its
    /// Razor components, its sign-in (cookie + OpenID Connect), antiforgery for its forms, its
    /// assets, its live events and the reviews its inboxes share.
    /// </summary>
    public static IServiceCollection AddAirlockConsole(this IServiceCollection services, ConsoleConfig console)
    {
        services.AddRazorComponents();
        services.AddConsoleAuthentication(console);
        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = console.IsHttps ? "__Host-airlock-csrf" : "airlock-csrf";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = console.IsHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.None;
            options.Cookie.Path = "/";
            options.FormFieldName = ConsoleFrame.CsrfField;
            // The console sends its own X-Frame-Options (DENY) and frame-ancestors 'none'.
            options.SuppressXFrameOptionsHeader = true;
        });
        services.AddSingleton<ConsoleAssets>();
        services.AddSingleton<ConsoleEvents>();
        services.AddSingleton<InboxSnapshot>();
        return services;
    }
}
