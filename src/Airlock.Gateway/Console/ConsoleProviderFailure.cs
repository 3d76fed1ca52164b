using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Airlock.Gateway.Console;

/// <summary>
/// Sending a person to sign in talks to the provider first: its discovery document and, where it
/// offers pushed authorization requests, a request authenticated with the console's secret. When
/// the provider cannot be reached or refuses the console (a wrong secret, an unknown client), the
/// person gets a page that says sign-in could not start (502), not a crash; the log says why.
/// </summary>
internal sealed partial class ConsoleProviderFailure(RequestDelegate next, ILogger<ConsoleProviderFailure> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (IsProviderFailure(ex) && !context.Response.HasStarted)
        {
            Log.ProviderFailed(logger, ex.GetType().Name, ex.Message);
            await ConsolePages.Message(context, StatusCodes.Status502BadGateway, "Sign-in could not start",
                ["The identity provider could not be reached, or it refused the console's sign-in request. Nothing was decided.",
                 "Try again in a moment; if it persists, ask your Airlock administrator to check the console's settings at the provider (client id, secret, redirect URI)."],
                "/", "Try again").ExecuteAsync(context);
        }
    }

    /// <summary>The provider refused (an OAuth error), could not be reached, or its discovery
    /// document could not be read (IdentityModel's IDX errors).</summary>
    private static bool IsProviderFailure(Exception ex) =>
        ex is OpenIdConnectProtocolException or HttpRequestException
        || (ex is InvalidOperationException && ex.Message.StartsWith("IDX", StringComparison.Ordinal));

    private static partial class Log
    {
        [LoggerMessage(7001, LogLevel.Warning, "The console could not send a person to sign in: the identity provider failed or refused ({Kind}: {Reason})")]
        public static partial void ProviderFailed(ILogger logger, string kind, string reason);
    }
}
