namespace Airlock.Gateway.Storage;

/// <summary>
/// Everything the gateway keeps, behind one interface with one implementation per engine:
/// <see cref="Sqlite.SqliteStore"/> (the embedded default) and
/// <see cref="Postgres.PostgresStore"/> (for several replicas). Each feature adds its part as
/// its own interface, so a feature's storage reads in one place.
/// </summary>
internal interface IAirlockStore : IApiKeyStore, ISessionStore, IPolicyEventStore, IReviewStore, IAuditStore, IAsyncDisposable
{
    /// <summary><c>sqlite</c> or <c>postgres</c>.</summary>
    string Engine { get; }

    /// <summary>Brings the schema to the version this build needs. Safe to run concurrently
    /// from several processes: migrations are applied once, under a lock.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>Proves the store answers; throws when it does not.</summary>
    Task PingAsync(CancellationToken cancellationToken);

    /// <summary>The schema version the store is at (0 when it holds no Airlock schema: an empty
    /// database, or not Airlock's) and the latest this build knows. Reads only.</summary>
    Task<(int Current, int Latest)> GetSchemaVersionAsync(CancellationToken cancellationToken);
}
