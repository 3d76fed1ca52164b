using System.Collections.Immutable;
using Airlock.Gateway.Identity;
using Airlock.Gateway.Policy;
using Airlock.Gateway.Routing;

namespace Airlock.Gateway.Sessions;

/// <summary>
/// What the gateway has established about the request in flight, carried on the
/// <see cref="Microsoft.AspNetCore.Http.HttpContext"/> from one pipeline stage to the next and
/// turned into a <see cref="SessionRecord"/> when the exchange ends.
/// </summary>
public sealed class SessionFeature
{
    public SessionFeature(Guid id, DateTimeOffset startedAt, long startTimestamp, string method, string rawPath)
    {
        Id = id;
        StartedAt = startedAt;
        StartTimestamp = startTimestamp;
        Method = method;
        Path = rawPath;
    }

    public Guid Id { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>A <see cref="TimeProvider.GetTimestamp"/> value, for durations.</summary>
    public long StartTimestamp { get; }

    public string Method { get; }

    /// <summary>The normalised path once normalisation has run; the raw path before.</summary>
    public string Path { get; set; }

    public string? Query { get; set; }

    public ConnectionRoute? Connection { get; set; }

    /// <summary>The path sent upstream: the normalised path without the connection segment.</summary>
    public string? UpstreamPath { get; set; }

    public CallerIdentity? Identity { get; set; }

    /// <summary>The policy's decision, once policy has run.</summary>
    public PolicyDecision? Decision { get; set; }

    /// <summary>The response guardrails that apply to this request (empty when none).</summary>
    public ImmutableArray<ResponseGuardrail> Guardrails { get; set; } = [];

    /// <summary>The short name of the problem the gateway answered with, if any.</summary>
    public string? Error { get; set; }

    public long? UpstreamStartTimestamp { get; set; }

    public long? UpstreamEndTimestamp { get; set; }

    public long RequestBytes { get; set; }

    public long ResponseBytes { get; set; }
}
