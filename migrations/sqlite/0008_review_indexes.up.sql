-- The review queues in their other views, oldest first: one state's items (approved, rejected; the
-- waiting ones have their partial index already), and every item whatever its state.
CREATE INDEX deliverables_status_idx ON deliverables (review_status, created_at, id);
CREATE INDEX deliverables_created_idx ON deliverables (created_at, id);
