using System.Collections.Immutable;
using System.Text.Json;

namespace Airlock.Gateway.Storage;

/// <summary>Groups are stored as a JSON array of strings in both engines.</summary>
internal static class GroupList
{
    public static string Serialize(ImmutableArray<string> groups) =>
        JsonSerializer.Serialize(groups.IsDefault ? [] : groups, StorageJsonContext.Default.ImmutableArrayString);

    public static ImmutableArray<string> Deserialize(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize(json, StorageJsonContext.Default.ImmutableArrayString);
}
