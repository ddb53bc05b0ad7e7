-- Sessions are now stored under the SHA-256 of their key, never the key itself. Rows written before
-- hold raw keys that no cookie will ever match again: remove them (those users sign in once more).
DELETE FROM sessions;

-- Searches offered in the UI use an index: trigrams for "contains" (three characters or more), a
-- bytewise index for e-mail prefixes (shorter terms).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_email_trgm_idx ON users USING gin (email gin_trgm_ops);
CREATE INDEX users_email_prefix_idx ON users (email COLLATE "C");
CREATE INDEX customers_name_trgm_idx ON customers USING gin (lower(name) gin_trgm_ops);

-- The job runner: one lease row per job kind (so one instance at a time runs it), one row per run.
CREATE TABLE job_leases (
    job         TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE TABLE job_runs (
    id           BIGSERIAL PRIMARY KEY,
    job          TEXT NOT NULL,
    holder       TEXT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('ok', 'failed')),
    report       JSONB NOT NULL,
    error        TEXT NULL
);
CREATE INDEX job_runs_job_idx ON job_runs (job, id);

-- Staff acting for a customer are recorded as on behalf of that customer.
ALTER TABLE audit_log ADD COLUMN on_behalf_of TEXT NULL;
