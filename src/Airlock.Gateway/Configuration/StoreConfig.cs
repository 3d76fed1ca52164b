namespace Airlock.Gateway.Configuration;

/// <summary>Where the gateway keeps its state. Exactly one engine is configured.</summary>
public abstract record StoreConfig
{
    public abstract string Engine { get; }
}

/// <summary>The embedded default: one SQLite file in WAL mode, for a single machine.</summary>
public sealed record SqliteStoreConfig(string Path) : StoreConfig
{
    public override string Engine => "sqlite";
}

/// <summary>PostgreSQL, for several replicas sharing one store. The connection string may
/// hold a password, so it is a secret.</summary>
public sealed record PostgresStoreConfig(Secret ConnectionString) : StoreConfig
{
    public override string Engine => "postgres";
}
