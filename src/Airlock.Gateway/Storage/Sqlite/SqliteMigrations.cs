namespace Airlock.Gateway.Storage.Sqlite;

/// <summary>The SQLite schema, step by step. Times are Unix microseconds (INTEGER).</summary>
internal static class SqliteMigrations
{
    public static readonly IReadOnlyList<Migration> All =
    [
        new(1, "api keys and sessions", """
            CREATE TABLE api_keys (
                id          TEXT PRIMARY KEY,
                name        TEXT NOT NULL,
                groups      TEXT NOT NULL,
                secret_hash BLOB NOT NULL,
                created_at  INTEGER NOT NULL,
                revoked_at  INTEGER
            );
            CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;

            CREATE TABLE sessions (
                id             TEXT PRIMARY KEY,
                started_at     INTEGER NOT NULL,
                duration_us    INTEGER NOT NULL,
                method         TEXT NOT NULL,
                path           TEXT NOT NULL,
                status         INTEGER NOT NULL,
                connection     TEXT,
                subject        TEXT,
                auth_method    TEXT,
                issuer         TEXT,
                key_name       TEXT,
                key_id         TEXT,
                groups         TEXT NOT NULL,
                client_address TEXT,
                request_bytes  INTEGER NOT NULL,
                response_bytes INTEGER NOT NULL,
                upstream_us    INTEGER,
                error          TEXT
            );
            CREATE INDEX sessions_started_at ON sessions (started_at);
            """),
        new(2, "policy decisions and policy loads", """
            ALTER TABLE sessions ADD COLUMN decision TEXT;
            ALTER TABLE sessions ADD COLUMN rule TEXT;
            ALTER TABLE sessions ADD COLUMN policy_version TEXT;

            CREATE TABLE policy_loads (
                seq       INTEGER PRIMARY KEY AUTOINCREMENT,
                at        INTEGER NOT NULL,
                source    TEXT NOT NULL,
                version   TEXT NOT NULL,
                outcome   TEXT NOT NULL,
                errors    TEXT
            );
            """),
    ];
}
