using Airlock.Gateway.Configuration;
using Airlock.Gateway.Storage.Postgres;
using Airlock.Gateway.Storage.Sqlite;

namespace Airlock.Gateway.Storage;

internal static class StoreFactory
{
    public static IAirlockStore Create(StoreConfig config, TimeProvider timeProvider) => config switch
    {
        SqliteStoreConfig sqlite => new SqliteStore(sqlite.Path, timeProvider, sqlite.BusyTimeout, sqlite.MaxSize),
        PostgresStoreConfig postgres => new PostgresStore(postgres.ConnectionString.Reveal(), timeProvider),
        _ => throw new ArgumentOutOfRangeException(nameof(config), config.Engine, "unknown store engine"),
    };

    /// <summary>
    /// Opens a store to read it as it is: nothing is created (a missing SQLite file stays
    /// missing) and the caller runs no migration. For <c>airlock audit verify</c>, which must
    /// never turn a misspelt path into a new, empty store and then call it intact.
    /// </summary>
    public static IAirlockStore CreateReadOnly(StoreConfig config, TimeProvider timeProvider) => config switch
    {
        SqliteStoreConfig sqlite => new SqliteStore(sqlite.Path, timeProvider, sqlite.BusyTimeout, readOnly: true),
        PostgresStoreConfig postgres => new PostgresStore(postgres.ConnectionString.Reveal(), timeProvider, readOnly: true),
        _ => throw new ArgumentOutOfRangeException(nameof(config), config.Engine, "unknown store engine"),
    };
}
