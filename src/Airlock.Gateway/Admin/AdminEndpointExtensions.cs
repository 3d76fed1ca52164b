using Airlock.Gateway.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Airlock.Gateway.Admin;

internal static class AdminEndpointExtensions
{
    /// <summary>Lets the endpoint run only for callers with one of the roles; others get 403.</summary>
    public static TBuilder RequireRoles<TBuilder>(this TBuilder builder, AdminRoles any)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var caller = context.HttpContext.Features.GetRequiredFeature<AdminCaller>();
            if (!caller.Has(any))
            {
                await ProblemWriter.WriteAsync(context.HttpContext, ProblemType.Forbidden,
                    $"this needs one of the roles: {any}; your groups grant none of them");
                return Results.Empty;
            }

            return await next(context);
        });
}
