-- Sessions are now stored under the SHA-256 of their key, never the key itself. Rows written before
-- hold raw keys that no cookie will ever match again: remove them (those users sign in once more).
DELETE FROM sessions;

-- Searches offered in the UI use an index: a trigram full-text index over each user's e-mail and
-- customer name for "contains" (three characters or more; case-insensitive beyond ASCII), the
-- e-mail index for prefixes (shorter terms). Triggers keep it in step.
CREATE VIRTUAL TABLE users_search USING fts5(email, customer_name, tokenize = 'trigram');
INSERT INTO users_search (rowid, email, customer_name)
    SELECT u.id, u.email, COALESCE(c.name, '') FROM users u LEFT JOIN customers c ON c.id = u.customer_id;
CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (rowid, email, customer_name)
    VALUES (new.id, new.email, COALESCE((SELECT name FROM customers WHERE id = new.customer_id), ''));
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF email, customer_id ON users BEGIN
    UPDATE users_search
    SET email = new.email,
        customer_name = COALESCE((SELECT name FROM customers WHERE id = new.customer_id), '')
    WHERE rowid = new.id;
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    DELETE FROM users_search WHERE rowid = old.id;
END;
CREATE TRIGGER users_search_customer_name AFTER UPDATE OF name ON customers BEGIN
    UPDATE users_search SET customer_name = new.name
    WHERE rowid IN (SELECT id FROM users WHERE customer_id = new.id);
END;

-- The job runner: one lease row per job kind (so one instance at a time runs it), one row per run.
CREATE TABLE job_leases (
    job         TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE TABLE job_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    job          TEXT NOT NULL,
    holder       TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('ok', 'failed')),
    report       TEXT NOT NULL CHECK (json_valid(report)),
    error        TEXT NULL
);
CREATE INDEX job_runs_job_idx ON job_runs (job, id);

-- Staff acting for a customer are recorded as on behalf of that customer.
ALTER TABLE audit_log ADD COLUMN on_behalf_of TEXT NULL;
