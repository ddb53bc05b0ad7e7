-- Accounts, sessions, API tokens, login throttling, settings and the append-only audit trail.
-- Timestamps are RFC 3339 text written from Rust (UTC); JSON is text checked by json_valid.

CREATE TABLE customers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email       TEXT NOT NULL,
    gstin       TEXT NULL CHECK (gstin IS NULL OR (length(gstin) = 15 AND gstin NOT GLOB '*[^0-9A-Z]*')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX customers_name_idx ON customers (lower(name));

CREATE TABLE users (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    email                 TEXT NOT NULL UNIQUE,
    password_hash         TEXT NOT NULL,
    role                  TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer', 'customer')),
    customer_id           TEXT NULL REFERENCES customers (id),
    disabled              BOOLEAN NOT NULL DEFAULT FALSE,
    must_change_password  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    CONSTRAINT users_customer_role CHECK ((role = 'customer') = (customer_id IS NOT NULL))
);
CREATE INDEX users_role_idx ON users (role);
CREATE INDEX users_customer_idx ON users (customer_id);

CREATE TABLE sessions (
    session_key  TEXT PRIMARY KEY,
    user_id      INTEGER NULL REFERENCES users (id) ON DELETE CASCADE,
    state        TEXT NOT NULL CHECK (json_valid(state)),
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT NULL,
    revoked_at    TEXT NULL
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE login_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    email       TEXT NOT NULL,
    client_ip   TEXT NOT NULL,
    succeeded   BOOLEAN NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX login_attempts_email_idx ON login_attempts (email, at);
CREATE INDEX login_attempts_ip_idx ON login_attempts (client_ip, at);

CREATE TABLE app_settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    actor_user_id   INTEGER NULL,
    actor_role      TEXT NULL,
    entity_type     TEXT NOT NULL,
    entity_id       TEXT NOT NULL,
    action          TEXT NOT NULL,
    before          TEXT NULL CHECK (before IS NULL OR json_valid(before)),
    after           TEXT NULL CHECK (after IS NULL OR json_valid(after)),
    correlation_id  TEXT NOT NULL
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id, id);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- The audit trail is append-only: the database itself refuses to rewrite or remove history.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END;
