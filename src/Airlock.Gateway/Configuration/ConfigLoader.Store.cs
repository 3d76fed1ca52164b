using Npgsql;
using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Configuration;

public static partial class ConfigLoader
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
            var file = reader.Scalar(sqlite, "store.sqlite");
            if (string.IsNullOrWhiteSpace(file))
            {
                reader.Error(sqlite, "store.sqlite", "must be the path of the database file");
                return null;
            }

            return new SqliteStoreConfig(Path.GetFullPath(file, baseDirectory));
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
}
