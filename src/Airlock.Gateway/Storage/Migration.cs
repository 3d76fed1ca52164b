namespace Airlock.Gateway.Storage;

/// <summary>One schema step. Versions only grow; a released migration is never edited.</summary>
internal sealed record Migration(int Version, string Name, string Sql);
