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
        new(3, "reviews, decisions, grants, instances", """
            ALTER TABLE api_keys ADD COLUMN owner TEXT;
            ALTER TABLE sessions ADD COLUMN review_id TEXT;
            ALTER TABLE sessions ADD COLUMN grant_id TEXT;

            CREATE TABLE reviews (
                id                 TEXT PRIMARY KEY,
                created_at         INTEGER NOT NULL,
                status             TEXT NOT NULL,
                session_id         TEXT NOT NULL,
                requester_subject  TEXT NOT NULL,
                requester_auth     TEXT NOT NULL,
                requester_issuer   TEXT NOT NULL,
                requester_key_name TEXT,
                requester_key_id   TEXT,
                requester_owner    TEXT,
                requester_groups   TEXT NOT NULL,
                client_address     TEXT,
                connection         TEXT NOT NULL,
                method             TEXT NOT NULL,
                path               TEXT NOT NULL,
                query              TEXT,
                headers            TEXT NOT NULL,
                body               BLOB NOT NULL,
                rule               TEXT NOT NULL,
                policy_version     TEXT NOT NULL,
                approvers          TEXT NOT NULL,
                approvals_needed   INTEGER NOT NULL,
                max_grant_us       INTEGER NOT NULL,
                expires_at         INTEGER NOT NULL,
                held_by            TEXT,
                held_until         INTEGER,
                decided_at         INTEGER,
                executor           TEXT,
                executing_since    INTEGER,
                executed_at        INTEGER,
                result_status      INTEGER,
                result_headers     TEXT,
                result_body        BLOB,
                result_truncated   INTEGER,
                result_session_id  TEXT,
                grant_id           TEXT
            );
            CREATE INDEX reviews_status ON reviews (status, expires_at);
            CREATE INDEX reviews_created ON reviews (created_at);

            CREATE TABLE review_decisions (
                seq       INTEGER PRIMARY KEY AUTOINCREMENT,
                review_id TEXT NOT NULL REFERENCES reviews (id),
                subject   TEXT NOT NULL,
                groups    TEXT NOT NULL,
                verdict   TEXT NOT NULL,
                comment   TEXT,
                window_us INTEGER,
                at        INTEGER NOT NULL,
                UNIQUE (review_id, subject)
            );

            CREATE TABLE grants (
                id         TEXT PRIMARY KEY,
                review_id  TEXT NOT NULL REFERENCES reviews (id),
                subject    TEXT NOT NULL,
                rule       TEXT NOT NULL,
                connection TEXT NOT NULL,
                granted_by TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                revoked_at INTEGER,
                revoked_by TEXT
            );
            CREATE INDEX grants_subject_rule ON grants (subject, rule, expires_at);

            CREATE TABLE instances (
                id      TEXT PRIMARY KEY,
                seen_at INTEGER NOT NULL
            );
            """),
        new(4, "audit trail", """
            CREATE TABLE audit_events (
                seq        INTEGER PRIMARY KEY,
                at         INTEGER NOT NULL,
                kind       TEXT NOT NULL,
                actor      TEXT,
                connection TEXT,
                event      BLOB NOT NULL,
                prev_hash  TEXT NOT NULL,
                hash       TEXT NOT NULL
            );
            CREATE INDEX audit_events_at ON audit_events (at);

            CREATE TABLE audit_checkpoints (
                count     INTEGER PRIMARY KEY,
                head_hash TEXT NOT NULL,
                at        INTEGER NOT NULL,
                key_id    TEXT NOT NULL,
                algorithm TEXT NOT NULL,
                signature TEXT NOT NULL
            );
            """),
        new(5, "grants bound to the API key, not only its name", """
            ALTER TABLE grants ADD COLUMN key_id TEXT;
            UPDATE grants SET key_id = (SELECT r.requester_key_id FROM reviews r WHERE r.id = grants.review_id);
            """),
        new(6, "masking counts per session", """
            ALTER TABLE sessions ADD COLUMN masked INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE sessions ADD COLUMN masked_types TEXT;
            """),
        new(7, "recorded exchanges: headers and bodies, kept for the connection's retention", """
            CREATE TABLE exchanges (
                session_id         TEXT PRIMARY KEY,
                query              TEXT,
                request_headers    TEXT NOT NULL,
                request_body       BLOB NOT NULL,
                request_truncated  INTEGER NOT NULL,
                response_headers   TEXT NOT NULL,
                response_body      BLOB NOT NULL,
                response_truncated INTEGER NOT NULL
            );
            CREATE INDEX sessions_connection_started ON sessions (connection, started_at);
            """),
        new(8, "each attempt to send a request upstream; why an execution is unknown", """
            ALTER TABLE sessions ADD COLUMN upstream_attempts TEXT;
            ALTER TABLE reviews ADD COLUMN unknown_reason TEXT;
            """),
        new(9, "reviews say when the rule held the request only because it reads two ways", """
            ALTER TABLE reviews ADD COLUMN ambiguous TEXT;
            """),
        new(10, "reviews keep the reason the agent gave (Airlock-Reason), shown to approvers as its claim", """
            ALTER TABLE reviews ADD COLUMN agent_reason TEXT;
            """),
        // Triggers rather than the store's own statements: a key written by any path (the CLI, a
        // replica, an operator's SQL) bumps the marker in its own transaction. PRAGMA data_version
        // was not enough: it moves on every write to the file, so every audit event would empty
        // the API-key cache.
        new(11, "a change marker for API keys, so a cache of them sees another process's revocation", """
            CREATE TABLE api_key_changes (
                id      INTEGER PRIMARY KEY CHECK (id = 1),
                counter INTEGER NOT NULL
            );
            INSERT INTO api_key_changes (id, counter) VALUES (1, 0);
            CREATE TRIGGER api_keys_inserted AFTER INSERT ON api_keys BEGIN UPDATE api_key_changes SET counter = counter + 1; END;
            CREATE TRIGGER api_keys_updated AFTER UPDATE ON api_keys BEGIN UPDATE api_key_changes SET counter = counter + 1; END;
            CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys BEGIN UPDATE api_key_changes SET counter = counter + 1; END;
            """),
    ];
}
