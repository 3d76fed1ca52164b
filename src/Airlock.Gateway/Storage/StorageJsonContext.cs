using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace Airlock.Gateway.Storage;

[JsonSerializable(typeof(ImmutableArray<string>))]
[JsonSerializable(typeof(string[][]))]
internal sealed partial class StorageJsonContext : JsonSerializerContext;
