using Airlock.Gateway.Configuration;
using Airlock.Gateway.Storage.Postgres;
using Airlock.Gateway.Storage.Sqlite;

namespace Airlock.Gateway.Storage;

public static class StoreFactory
{
    public static IAirlockStore Create(StoreConfig config, TimeProvider timeProvider) => config switch
    {
        SqliteStoreConfig sqlite => new SqliteStore(sqlite.Path, timeProvider, sqlite.BusyTimeout, sqlite.MaxSize),
        PostgresStoreConfig postgres => new PostgresStore(postgres.ConnectionString.Reveal(), timeProvider),
        _ => throw new ArgumentOutOfRangeException(nameof(config), config.Engine, "unknown store engine"),
    };
}
