ALTER TABLE audit_log DROP COLUMN on_behalf_of;
DROP TABLE job_runs;
DROP TABLE job_leases;
DROP INDEX customers_name_trgm_idx;
DROP INDEX users_email_prefix_idx;
DROP INDEX users_email_trgm_idx;
DROP EXTENSION IF EXISTS pg_trgm;

-- Hashed session keys mean nothing to the earlier version: its users sign in again.
DELETE FROM sessions;
