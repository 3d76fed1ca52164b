using Airlock.Gateway.Configuration;
using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Console;

/// <summary>
/// The headers on every console response. The pages show what a hostile agent wrote, so the
/// browser is told to run nothing but the console's own script and style (no inline script or
/// style, no other origin), to submit forms only to the console and the provider (sign-in and
/// sign-out continue there), never to frame the console, never to sniff a type, never to send a
/// Referer (review ids and paths stay here), and never to cache a page: they hold payloads.
/// </summary>
internal sealed class ConsoleSecurityHeaders(RequestDelegate next, AirlockConfig config)
{
    private readonly string _policy = Policy(config.Console!);

    public static string Policy(ConsoleConfig console) =>
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + $"form-action 'self' {new Uri(console.Issuer.Issuer).GetLeftPart(UriPartial.Authority)}; frame-ancestors 'none'; base-uri 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = _policy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
        if (!context.Request.Path.StartsWithSegments("/assets"))
        {
            headers.CacheControl = "no-store";
        }

        return next(context);
    }
}
