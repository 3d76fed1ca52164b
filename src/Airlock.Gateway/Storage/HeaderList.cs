using System.Collections.Immutable;
using System.Text.Json;

namespace Airlock.Gateway.Storage;

/// <summary>Header lists (order and repeats kept) are stored as a JSON array of [name, value] pairs.</summary>
internal static class HeaderList
{
    public static string Serialize(ImmutableArray<KeyValuePair<string, string>> headers) =>
        JsonSerializer.Serialize(headers.Select(h => new[] { h.Key, h.Value }).ToArray(), StorageJsonContext.Default.StringArrayArray);

    public static ImmutableArray<KeyValuePair<string, string>> Deserialize(string? json) =>
        string.IsNullOrEmpty(json)
            ? []
            : [.. JsonSerializer.Deserialize(json, StorageJsonContext.Default.StringArrayArray)!.Select(p => new KeyValuePair<string, string>(p[0], p[1]))];
}
