namespace Airlock.Gateway.Configuration;

/// <summary>Where the gateway keeps its state. Exactly one engine is configured.</summary>
internal abstract record StoreConfig
{
    public abstract string Engine { get; }
}

/// <summary>The embedded default: one SQLite file in WAL mode, for a single machine.</summary>
/// <param name="BusyTimeout">How long a write waits for another writer's lock before it fails
/// (then the gateway fails closed: 503).</param>
/// <param name="MaxSize">A cap on the database file, or null for none: past it writes fail
/// as on a full disk, which lets a deployment keep room on the disk for everything else.</param>
internal sealed record SqliteStoreConfig(string Path, TimeSpan BusyTimeout, long? MaxSize = null) : StoreConfig
{
    public static readonly TimeSpan DefaultBusyTimeout = TimeSpan.FromSeconds(30);

    public SqliteStoreConfig(string path)
        : this(path, DefaultBusyTimeout)
    {
    }

    public override string Engine => "sqlite";
}

/// <summary>PostgreSQL, for several replicas sharing one store. The connection string may
/// hold a password, so it is a secret.</summary>
internal sealed record PostgresStoreConfig(Secret ConnectionString) : StoreConfig
{
    public override string Engine => "postgres";
}
