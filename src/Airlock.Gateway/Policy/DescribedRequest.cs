using System.Collections.Immutable;
using Airlock.Gateway.Identity;
using Airlock.Gateway.Normalization;
using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Policy;

/// <summary>
/// Builds the facts of a request described by a person (for <c>airlock policy test</c> and the
/// explain API) the way the gateway builds them for a live one: the same normalisation, the
/// same identity shapes, the same body reading.
/// </summary>
internal static class DescribedRequest
{
    /// <returns>The facts, or why the request cannot be described (then <c>Facts</c> is null).</returns>
    public static async Task<(RequestFacts? Facts, string? Error)> BuildAsync(string subject, IEnumerable<string> groups, string method, string target,
        IEnumerable<KeyValuePair<string, string>> headers, byte[]? body, IReadOnlySet<string>? connections, CancellationToken cancellationToken)
    {
        if (TryBuild(subject, groups, method, target, headers, connections, out var error) is not { } facts)
        {
            return (null, error);
        }

        facts.Body = body is null ? InspectedBody.Empty : await InspectedBody.ReadAsync(body, facts.Headers.ContentType, cancellationToken);
        return (facts, null);
    }

    private static RequestFacts? TryBuild(string subject, IEnumerable<string> groups, string method, string target,
        IEnumerable<KeyValuePair<string, string>> headers, IReadOnlySet<string>? connections, out string? error)
    {
        error = null;
        var colon = subject.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == subject.Length - 1)
        {
            error = "write the subject as key:<api key name> or <issuer name>:<sub>, e.g. key:billing-agent or corp:alice";
            return null;
        }

        var issuer = subject[..colon];
        var identity = issuer == "key"
            ? new CallerIdentity(subject, CallerIdentity.ApiKeyMethod, "airlock", subject[(colon + 1)..], null, groups.ToImmutableArray())
            : new CallerIdentity(subject, CallerIdentity.OidcMethod, issuer, null, null, groups.ToImmutableArray());

        if (method.Length == 0 || method.Any(c => !char.IsAsciiLetterUpper(c)))
        {
            error = $"the method '{method}' must be written in upper case letters, as the gateway requires";
            return null;
        }

        var problem = RequestTargetNormalizer.Normalize(target, out var normal);
        if (problem != NormalizationError.None)
        {
            error = $"the gateway would refuse the path '{target}' before policy ({NormalizationMiddleware.ReasonName(problem)})";
            return null;
        }

        // A normalised path starts with '/' ("/" at least), so there is always a first segment.
        var connection = normal.Path.Split('/', 3)[1];
        if (connection.Length == 0 || (connections is not null && !connections.Contains(connection)))
        {
            error = $"'{connection}' is not a configured connection; the path starts with /<connection>/";
            return null;
        }

        var headerDictionary = new HeaderDictionary();
        foreach (var (name, value) in headers)
        {
            headerDictionary.Append(name, value);
        }

        return new RequestFacts(identity, connection, method, normal.Path, normal.Query, headerDictionary);
    }
}
