using System.Text.Json;
using System.Text.Json.Serialization;
using Airlock.Gateway.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Airlock.Gateway.Admin;

/// <summary>What <c>airlock login</c> reads before it signs a person in.</summary>
/// <param name="Issuer">The OIDC issuer's URL; the CLI reads its discovery document.</param>
/// <param name="ClientId">The public client registered there for the device grant.</param>
internal sealed record LoginInfo(string Issuer, string ClientId, IReadOnlyList<string> Scopes, string? Resource);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LoginInfo))]
[JsonSerializable(typeof(CallerInfo))]
internal sealed partial class LoginJsonContext : JsonSerializerContext;

/// <summary>
/// <c>GET /.well-known/airlock-login</c> on the admin listener: the issuer and public client id
/// from <c>admin.login</c>, so that <c>airlock login --admin-url URL</c> needs nothing else. It
/// is outside <c>/api</c> and unauthenticated, like discovery at an OIDC provider: a person has
/// no token yet, and nothing here is a secret. Without <c>admin.login</c> it is not mapped, and
/// the admin listener answers 404 as for any unknown path.
/// </summary>
internal static class LoginEndpoints
{
    public const string Path = "/.well-known/airlock-login";

    public static IEndpointRouteBuilder MapAirlockLogin(this IEndpointRouteBuilder endpoints, AdminLoginConfig? login)
    {
        if (login is null)
        {
            return endpoints;
        }

        var info = new LoginInfo(login.Issuer, login.ClientId, login.Scopes, login.Resource);
        endpoints.MapGet(Path, () => Results.Json(info, LoginJsonContext.Default.LoginInfo));
        return endpoints;
    }
}
