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
        new(3, "reviews, decisions, grants, instances", """
            ALTER TABLE api_keys ADD COLUMN owner text;
            ALTER TABLE sessions ADD COLUMN review_id uuid;
            ALTER TABLE sessions ADD COLUMN grant_id uuid;

            CREATE TABLE reviews (
                id                 uuid PRIMARY KEY,
                created_at         timestamptz NOT NULL,
                status             text NOT NULL,
                session_id         uuid NOT NULL,
                requester_subject  text NOT NULL,
                requester_auth     text NOT NULL,
                requester_issuer   text NOT NULL,
                requester_key_name text,
                requester_key_id   text,
                requester_owner    text,
                requester_groups   jsonb NOT NULL,
                client_address     text,
                connection         text NOT NULL,
                method             text NOT NULL,
                path               text NOT NULL,
                query              text,
                headers            jsonb NOT NULL,
                body               bytea NOT NULL,
                rule               text NOT NULL,
                policy_version     text NOT NULL,
                approvers          jsonb NOT NULL,
                approvals_needed   integer NOT NULL,
                max_grant_us       bigint NOT NULL,
                expires_at         timestamptz NOT NULL,
                held_by            text,
                held_until         timestamptz,
                decided_at         timestamptz,
                executor           text,
                executing_since    timestamptz,
                executed_at        timestamptz,
                result_status      integer,
                result_headers     jsonb,
                result_body        bytea,
                result_truncated   boolean,
                result_session_id  uuid,
                grant_id           uuid
            );
            CREATE INDEX reviews_status ON reviews (status, expires_at);
            CREATE INDEX reviews_created ON reviews (created_at);

            CREATE TABLE review_decisions (
                seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                review_id uuid NOT NULL REFERENCES reviews (id),
                subject   text NOT NULL,
                groups    jsonb NOT NULL,
                verdict   text NOT NULL,
                comment   text,
                window_us bigint,
                at        timestamptz NOT NULL,
                UNIQUE (review_id, subject)
            );

            CREATE TABLE grants (
                id         uuid PRIMARY KEY,
                review_id  uuid NOT NULL REFERENCES reviews (id),
                subject    text NOT NULL,
                rule       text NOT NULL,
                connection text NOT NULL,
                granted_by jsonb NOT NULL,
                created_at timestamptz NOT NULL,
                expires_at timestamptz NOT NULL,
                revoked_at timestamptz,
                revoked_by text
            );
            CREATE INDEX grants_subject_rule ON grants (subject, rule, expires_at);

            CREATE TABLE instances (
                id      text PRIMARY KEY,
                seen_at timestamptz NOT NULL
            );
            """),
        new(4, "audit trail", """
            CREATE TABLE audit_events (
                seq        bigint PRIMARY KEY,
                at         timestamptz NOT NULL,
                kind       text NOT NULL,
                actor      text,
                connection text,
                event      bytea NOT NULL,
                prev_hash  text NOT NULL,
                hash       text NOT NULL
            );
            CREATE INDEX audit_events_at ON audit_events (at);

            CREATE TABLE audit_checkpoints (
                count     bigint PRIMARY KEY,
                head_hash text NOT NULL,
                at        timestamptz NOT NULL,
                key_id    text NOT NULL,
                algorithm text NOT NULL,
                signature text NOT NULL
            );
            """),
        new(5, "grants bound to the API key, not only its name", """
            ALTER TABLE grants ADD COLUMN key_id text;
            UPDATE grants SET key_id = r.requester_key_id FROM reviews r WHERE r.id = grants.review_id;
            """),
        new(6, "masking counts per session", """
            ALTER TABLE sessions ADD COLUMN masked bigint NOT NULL DEFAULT 0;
            ALTER TABLE sessions ADD COLUMN masked_types text;
            """),
        new(7, "recorded exchanges: headers and bodies, kept for the connection's retention", """
            CREATE TABLE exchanges (
                session_id         uuid PRIMARY KEY,
                query              text,
                request_headers    text NOT NULL,
                request_body       bytea NOT NULL,
                request_truncated  boolean NOT NULL,
                response_headers   text NOT NULL,
                response_body      bytea NOT NULL,
                response_truncated boolean NOT NULL
            );
            CREATE INDEX sessions_connection_started ON sessions (connection, started_at);
            """),
        new(8, "each attempt to send a request upstream; why an execution is unknown", """
            ALTER TABLE sessions ADD COLUMN upstream_attempts text;
            ALTER TABLE reviews ADD COLUMN unknown_reason text;
            """),
        new(9, "reviews say when the rule held the request only because it reads two ways", """
            ALTER TABLE reviews ADD COLUMN ambiguous text;
            """),
        new(10, "reviews keep the reason the agent gave (Airlock-Reason), shown to approvers as its claim", """
            ALTER TABLE reviews ADD COLUMN agent_reason text;
            """),
        // A trigger rather than the store's own statements: a key written by any path (the CLI, a
        // replica, an operator's SQL) bumps the marker in its own transaction. The NOTIFY that
        // makes replicas notice at once is sent by the store after the write, not from here: a
        // NOTIFY that fails must not fail the revocation (the marker still carries it).
        new(11, "a change marker for API keys, so a cache of them sees another replica's revocation", """
            CREATE TABLE api_key_changes (
                id      integer PRIMARY KEY CHECK (id = 1),
                counter bigint NOT NULL
            );
            INSERT INTO api_key_changes (id, counter) VALUES (1, 0);
            CREATE FUNCTION airlock_api_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE api_key_changes SET counter = counter + 1;
                RETURN NULL;
            END
            $$;
            CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_keys
                FOR EACH STATEMENT EXECUTE FUNCTION airlock_api_keys_changed();
            """),
    ];
}
