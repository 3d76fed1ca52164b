using Npgsql;
using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Configuration;

internal static partial class ConfigLoader
{
    private static StoreConfig? ReadStore(YamlConfigReader reader, SecretResolver secrets, YamlNode? node, string baseDirectory)
    {
        if (node is null || reader.Mapping(node, "store") is not { } map)
        {
            return null;
        }

        reader.OnlyKeys(map, "store", "sqlite", "postgres");
        var sqlite = YamlConfigReader.Child(map, "sqlite");
        var postgres = YamlConfigReader.Child(map, "postgres");
        if ((sqlite is null) == (postgres is null))
        {
            reader.Error(map, "store", "configure exactly one engine: sqlite (a file path) or postgres (a connection string by reference)");
            return null;
        }

        if (sqlite is not null)
        {
            return ReadSqlite(reader, sqlite, baseDirectory);
        }

        var connectionString = secrets.Resolve(postgres, "store.postgres");
        if (connectionString is null)
        {
            return null;
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString.IsResolved ? connectionString.Reveal() : "");
        }
        catch (ArgumentException)
        {
            // Npgsql's message quotes the offending part, which may be the password.
            reader.Error(postgres, "store.postgres", $"the value of {connectionString.Source} is not a valid PostgreSQL connection string");
            return null;
        }

        return new PostgresStoreConfig(connectionString);
    }

    /// <summary><c>sqlite: ./airlock.db</c>, or <c>sqlite: { path, busyTimeout, maxSize }</c>.</summary>
    private static SqliteStoreConfig? ReadSqlite(YamlConfigReader reader, YamlNode sqlite, string baseDirectory)
    {
        const string Where = "store.sqlite";
        if (sqlite is not YamlMappingNode map)
        {
            var file = reader.Scalar(sqlite, Where);
            if (string.IsNullOrWhiteSpace(file))
            {
                reader.Error(sqlite, Where, "must be the path of the database file");
                return null;
            }

            return new SqliteStoreConfig(Path.GetFullPath(file, baseDirectory));
        }

        reader.OnlyKeys(map, Where, "path", "busyTimeout", "maxSize");
        var path = reader.String(map, "path", Where, required: true);
        // SQLite's busy handler counts whole seconds.
        var busy = reader.Duration(map, "busyTimeout", Where, SqliteStoreConfig.DefaultBusyTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));
        long? maxSize = YamlConfigReader.Child(map, "maxSize") is null ? null : SizeIn(reader, map, "maxSize", Where, 0, 1L << 20, 1L << 50);
        return string.IsNullOrWhiteSpace(path) ? null : new SqliteStoreConfig(Path.GetFullPath(path, baseDirectory), busy, maxSize);
    }
}
