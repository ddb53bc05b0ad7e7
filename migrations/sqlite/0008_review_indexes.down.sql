DROP INDEX deliverables_created_idx;
DROP INDEX deliverables_status_idx;
