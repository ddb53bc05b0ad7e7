CREATE INDEX deliverables_pending_idx ON deliverables (created_at, id) WHERE review_status = 'pending_review';
DROP TRIGGER deliverables_goal_owner_update;
DROP TRIGGER deliverables_goal_owner_insert;
