using Airlock.Gateway.Admin;
using Airlock.Gateway.Console.Pages;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Console;

/// <summary>Renders console pages (Razor components, statically) from endpoints, middleware and
/// sign-in events alike.</summary>
internal static class ConsolePages
{
    /// <summary>The frame of a page for this request; the antiforgery token is issued (and its
    /// cookie set) here, before anything is written.</summary>
    public static ConsoleFrame Frame(HttpContext context)
    {
        var services = context.RequestServices;
        var person = context.Features.Get<ConsolePerson>();
        var token = person is null ? null : services.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context).RequestToken;
        var assets = services.GetRequiredService<ConsoleAssets>();
        return new ConsoleFrame(person, context.Features.Get<AdminCaller>(), token, assets.Stylesheet, assets.Script,
            services.GetRequiredService<TimeProvider>().GetUtcNow());
    }

    public static RazorComponentResult<T> Page<T>(object parameters, int status = StatusCodes.Status200OK)
        where T : Microsoft.AspNetCore.Components.IComponent =>
        new(parameters) { StatusCode = status, ContentType = "text/html; charset=utf-8" };

    /// <summary>Renders a component to HTML, for a fragment that is kept and served more than once.</summary>
    public static async Task<string> RenderAsync<T>(IServiceProvider services, IDictionary<string, object?> parameters)
        where T : Microsoft.AspNetCore.Components.IComponent
    {
        await using var renderer = new HtmlRenderer(services, services.GetRequiredService<ILoggerFactory>());
        return await renderer.Dispatcher.InvokeAsync(async () =>
            (await renderer.RenderComponentAsync<T>(ParameterView.FromDictionary(parameters))).ToHtmlString());
    }

    public static RazorComponentResult<MessagePage> Message(HttpContext context, int status, string heading, IReadOnlyList<string> paragraphs,
        string? linkHref = null, string? linkText = null) =>
        Page<MessagePage>(new Dictionary<string, object?>
        {
            [nameof(MessagePage.Frame)] = Frame(context),
            [nameof(MessagePage.Heading)] = heading,
            [nameof(MessagePage.Paragraphs)] = paragraphs,
            [nameof(MessagePage.LinkHref)] = linkHref,
            [nameof(MessagePage.LinkText)] = linkText,
        }, status);

    public static Task SignInFailedAsync(HttpContext context, string? reason) =>
        Message(context, StatusCodes.Status400BadRequest, "Sign-in did not complete",
            [$"The identity provider's answer could not be used: {reason ?? "no reason given"}.", "Nothing was decided. Sign in again to continue."],
            "/", "Sign in again").ExecuteAsync(context);
}
