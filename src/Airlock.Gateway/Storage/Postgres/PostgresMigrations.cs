namespace Airlock.Gateway.Storage.Postgres;

/// <summary>The PostgreSQL schema, step by step; it mirrors <see cref="Sqlite.SqliteMigrations"/>.</summary>
internal static class PostgresMigrations
{
    public static readonly IReadOnlyList<Migration> All =
    [
        new(1, "api keys and sessions", """
            CREATE TABLE api_keys (
                id          text PRIMARY KEY,
                name        text NOT NULL,
                groups      jsonb NOT NULL,
                secret_hash bytea NOT NULL,
                created_at  timestamptz NOT NULL,
                revoked_at  timestamptz
            );
            CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;

            CREATE TABLE sessions (
                id             uuid PRIMARY KEY,
                started_at     timestamptz NOT NULL,
                duration_us    bigint NOT NULL,
                method         text NOT NULL,
                path           text NOT NULL,
                status         integer NOT NULL,
                connection     text,
                subject        text,
                auth_method    text,
                issuer         text,
                key_name       text,
                key_id         text,
                groups         jsonb NOT NULL,
                client_address text,
                request_bytes  bigint NOT NULL,
                response_bytes bigint NOT NULL,
                upstream_us    bigint,
                error          text
            );
            CREATE INDEX sessions_started_at ON sessions (started_at);
            """),
        new(2, "policy decisions and policy loads", """
            ALTER TABLE sessions ADD COLUMN decision text;
            ALTER TABLE sessions ADD COLUMN rule text;
            ALTER TABLE sessions ADD COLUMN policy_version text;

            CREATE TABLE policy_loads (
                seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at        timestamptz NOT NULL,
                source    text NOT NULL,
                version   text NOT NULL,
                outcome   text NOT NULL,
                errors    text
            );
            """),
    ];
}
