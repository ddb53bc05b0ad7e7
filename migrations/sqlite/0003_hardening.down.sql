ALTER TABLE audit_log DROP COLUMN on_behalf_of;
DROP TABLE job_runs;
DROP TABLE job_leases;
DROP TRIGGER users_search_customer_name;
DROP TRIGGER users_search_delete;
DROP TRIGGER users_search_update;
DROP TRIGGER users_search_insert;
DROP TABLE users_search;

-- Hashed session keys mean nothing to the earlier version: its users sign in again.
DELETE FROM sessions;
