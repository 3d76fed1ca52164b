namespace Airlock.Gateway.Configuration;

/// <summary>
/// The credential injected into every forwarded request of a connection, as one header whose
/// value is computed once at load: <c>Authorization: Bearer …</c>, <c>Authorization: Basic …</c>
/// or an API-key header such as <c>X-Api-Key</c>.
/// </summary>
internal sealed record UpstreamCredential(string Kind, string? HeaderName, Secret? HeaderValue)
{
    public static UpstreamCredential None { get; } = new("none", null, null);
}
