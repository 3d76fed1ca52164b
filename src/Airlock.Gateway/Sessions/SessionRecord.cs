using System.Collections.Immutable;

namespace Airlock.Gateway.Sessions;

/// <summary>
/// The stored fact that one request reached the gateway and what became of it. Every request
/// on the proxy listener gets one, refused ones included. It carries no query string, header
/// or body: those may hold secrets, and recording them is the recording feature's job, with
/// redaction.
/// </summary>
// Public: a console page model shows it (Razor components and their [Parameter]s are public).
public sealed record SessionRecord
{
    public required Guid Id { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required TimeSpan Duration { get; init; }

    public required string Method { get; init; }

    /// <summary>The normalised path, or the raw path when it could not be normalised.</summary>
    public required string Path { get; init; }

    public required int Status { get; init; }

    public string? Connection { get; init; }

    public string? Subject { get; init; }

    public string? AuthMethod { get; init; }

    public string? Issuer { get; init; }

    public string? KeyName { get; init; }

    public string? KeyId { get; init; }

    public ImmutableArray<string> Groups { get; init; } = [];

    public string? ClientAddress { get; init; }

    public long RequestBytes { get; init; }

    public long ResponseBytes { get; init; }

    /// <summary>Time from sending the request upstream to the end of the response, when forwarded.</summary>
    public TimeSpan? UpstreamDuration { get; init; }

    /// <summary>Each attempt to send the request upstream, in order, comma-separated:
    /// <c>answered</c>, <c>closed</c>, <c>unreachable</c>, <c>cancelled</c> or <c>failed</c>;
    /// null when it was not sent.</summary>
    public string? UpstreamAttempts { get; init; }

    /// <summary>The action the request got: the policy's <c>allow</c>, <c>deny</c> or <c>review</c>
    /// (held, not sent), or <c>allow</c> for one released by an approval (with <see cref="ReviewId"/>)
    /// or passed under a grant (with <see cref="GrantId"/>); null when the request was refused
    /// before policy ran (unauthenticated, unknown connection). <see cref="SessionOutcome"/> reads it.</summary>
    public string? Decision { get; init; }

    /// <summary>The rule that decided, or <c>(default)</c> when none matched.</summary>
    public string? Rule { get; init; }

    public string? PolicyVersion { get; init; }

    /// <summary>The review this request opened, waited for, or executed.</summary>
    public Guid? ReviewId { get; init; }

    /// <summary>The grant that let this request pass without a new review.</summary>
    public Guid? GrantId { get; init; }

    /// <summary>The problem type's short name when the gateway answered with an error.</summary>
    public string? Error { get; init; }

    /// <summary>Headers and bodies, when the connection records them; written beside the session.</summary>
    public Recording.ExchangeRecord? Exchange { get; init; }

    /// <summary>How many values masking took out of the response (0 when the connection does not mask).</summary>
    public long Masked { get; init; }

    /// <summary>The masked values by label, e.g. <c>{"CARD":1,"EMAIL":3}</c>; null when none.</summary>
    public string? MaskedTypes { get; init; }
}
