namespace Airlock.Gateway.Console;

/// <summary>
/// The console's two ASP.NET authentication schemes: the session cookie, and the OpenID Connect
/// sign-in that issues it. Neither is a default scheme, and only the console's paths on the admin
/// listener use them: the admin API stays bearer-token only, and the proxy never sees them.
/// </summary>
internal static class ConsoleSchemes
{
    public const string Cookie = "console";

    public const string Oidc = "console-oidc";
}
