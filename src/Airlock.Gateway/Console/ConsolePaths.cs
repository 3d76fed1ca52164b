using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Console;

/// <summary>
/// Which admin-listener paths are the console's: its pages need a signed-in person; its assets,
/// its sign-in and sign-out steps do not. Everything else (<c>/api</c>, <c>/healthz</c>,
/// <c>/readyz</c>, <c>/metrics</c>) is not the console's and never sees its cookie or headers.
/// </summary>
internal static class ConsolePaths
{
    /// <summary>Pages and fragments for a signed-in person.</summary>
    public static bool NeedsPerson(PathString path) =>
        path == "/" || path.StartsWithSegments("/reviews") || path.StartsWithSegments("/grants") || path.StartsWithSegments("/audit") || path.StartsWithSegments("/sessions") || path.StartsWithSegments("/fragments")
        || path.StartsWithSegments("/events") || path.StartsWithSegments("/signout");

    /// <summary>Every path the console answers (its security headers apply to all of them).</summary>
    public static bool IsConsole(PathString path) =>
        NeedsPerson(path) || path.StartsWithSegments("/assets") || path.StartsWithSegments("/signin") || path.StartsWithSegments("/signed-out")
        || path.StartsWithSegments(ConsoleSignIn.CallbackPath) || path.StartsWithSegments(ConsoleSignIn.SignedOutCallbackPath)
        || path.StartsWithSegments("/signout-oidc");

    /// <summary>
    /// A return address that stays on the console: a path that starts with one '/' (not "//"
    /// nor "/\", which browsers read as another host), without control characters. Anything else
    /// becomes <c>/</c>: a link can never send a person from the sign-in to another site.
    /// </summary>
    public static string LocalReturn(string? url)
    {
        if (string.IsNullOrEmpty(url) || url[0] != '/' || (url.Length > 1 && (url[1] == '/' || url[1] == '\\')))
        {
            return "/";
        }

        foreach (var c in url)
        {
            if (char.IsControl(c) || c == '\\')
            {
                return "/";
            }
        }

        return url;
    }
}
