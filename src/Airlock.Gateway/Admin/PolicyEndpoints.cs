using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Airlock.Gateway.Admin;

/// <summary>What to explain: a request described the way <c>airlock policy test</c> takes it.</summary>
internal sealed record ExplainRequest(
    string? Subject,
    string[]? Groups,
    string? Method,
    string? Path,
    Dictionary<string, string>? Headers,
    JsonElement? Body,
    string? BodyText);

internal sealed record ExplainedRule(string Name, int Line, string Action, bool Matched, bool Decided, string? Note);

/// <param name="Decision">allow, deny, review, or refused (see <paramref name="Refusal"/>).</param>
/// <param name="Refusal">The problem type the gateway would answer with instead, when it refuses before the decision applies.</param>
/// <param name="Ambiguous">Why the request could not be read one way only, when the deciding rule holds because of it.</param>
internal sealed record ExplainResponse(string Decision, string? Rule, string PolicyVersion, string Summary, IReadOnlyList<ExplainedRule> Rules,
    string? Refusal = null, string? Ambiguous = null);

internal sealed record PolicyStatus(string Version, string Source, DateTimeOffset LoadedAt, int Rules, int Guardrails, string[] AllowUnmatched, PolicyRejection? LastRejection);

internal sealed record PolicyRejection(DateTimeOffset At, string Version, string[] Errors);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ExplainRequest))]
[JsonSerializable(typeof(ExplainResponse))]
[JsonSerializable(typeof(PolicyStatus))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;

/// <summary>
/// <c>GET /api/policy</c>: the policy in force and the last rejected reload.
/// <c>POST /api/policy/explain</c>: the decision for a described request, with the reason for
/// every rule. Both for admins and auditors.
/// </summary>
internal static class PolicyEndpoints
{
    public static IEndpointRouteBuilder MapPolicyApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/policy", (PolicyProvider policies) =>
        {
            var current = policies.Current;
            var rejection = policies.LastFailure is { } f
                ? new PolicyRejection(f.At, f.Version, [.. f.Errors.Select(e => e.ToString())])
                : null;
            return Results.Json(new PolicyStatus(current.Version, current.SourcePath, policies.LoadedAt, current.Rules.Length,
                current.Guardrails.Length, [.. current.AllowUnmatched.Order(StringComparer.Ordinal)], rejection), AdminJsonContext.Default.PolicyStatus);
        }).RequireRoles(AdminRoles.Admin | AdminRoles.Auditor);

        endpoints.MapPost("/api/policy/explain", ExplainAsync).RequireRoles(AdminRoles.Admin | AdminRoles.Auditor);
        return endpoints;
    }

    private static async Task ExplainAsync(HttpContext context, PolicyProvider policies, AirlockConfig config)
    {
        ExplainRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync(context.Request.Body, AdminJsonContext.Default.ExplainRequest, context.RequestAborted);
        }
        catch (JsonException ex)
        {
            await ProblemWriter.WriteAsync(context, ProblemType.InvalidRequest, $"the body is not a valid explain request: {ex.Message}");
            return;
        }

        if (request is null || string.IsNullOrEmpty(request.Subject) || string.IsNullOrEmpty(request.Method) || string.IsNullOrEmpty(request.Path))
        {
            await ProblemWriter.WriteAsync(context, ProblemType.InvalidRequest, "give at least subject, method and path");
            return;
        }

        byte[]? body = request.BodyText is not null ? Encoding.UTF8.GetBytes(request.BodyText)
            : request.Body is { } json ? Encoding.UTF8.GetBytes(json.GetRawText())
            : null;
        var connections = config.Connections.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var (facts, error) = await DescribedRequest.BuildAsync(request.Subject, request.Groups ?? [], request.Method, request.Path,
            request.Headers ?? [], body, connections, context.RequestAborted);
        if (facts is null)
        {
            await ProblemWriter.WriteAsync(context, ProblemType.InvalidRequest, error!);
            return;
        }

        using (facts.Body)
        {
            var masking = config.Connections.First(c => c.Name == facts.Connection).Masking;
            var explanation = PolicyExplainer.Explain(policies.Current, facts, masking);
            await context.Response.WriteAsJsonAsync(ToResponse(explanation), AdminJsonContext.Default.ExplainResponse, cancellationToken: context.RequestAborted);
        }
    }

    private static ExplainResponse ToResponse(PolicyExplanation explanation) => new(
        explanation.Refusal is null ? explanation.Decision.Action.ToString().ToLowerInvariant() : "refused",
        explanation.Decision.Rule?.Name,
        explanation.Decision.PolicyVersion,
        explanation.Summary,
        [.. explanation.Rules.Select(r => new ExplainedRule(r.Rule, r.Line, r.Action, r.Matched, r.Decided, r.Note))],
        explanation.Refusal?.Problem.Uri,
        explanation.Decision.Ambiguous);
}
