using System.Collections.Immutable;

namespace Airlock.Gateway.Recording;

/// <summary>
/// One exchange as the agent experienced it: the request it sent (credentials withheld) and
/// the response it got (after masking), bodies up to the connection's cap. Kept beside the
/// session until the connection's retention ends; the session itself stays.
/// </summary>
// Public: a console page model shows it (Razor components and their [Parameter]s are public).
public sealed record ExchangeRecord
{
    public required Guid SessionId { get; init; }

    public string? Query { get; init; }

    public ImmutableArray<KeyValuePair<string, string>> RequestHeaders { get; init; } = [];

    public byte[] RequestBody { get; init; } = [];

    public bool RequestTruncated { get; init; }

    public ImmutableArray<KeyValuePair<string, string>> ResponseHeaders { get; init; } = [];

    public byte[] ResponseBody { get; init; } = [];

    public bool ResponseTruncated { get; init; }

    /// <summary>The approximate memory the record holds while it waits to be written.</summary>
    public long Size => RequestBody.Length + ResponseBody.Length + 64L * (RequestHeaders.Length + ResponseHeaders.Length) + 256;
}
