-- Deliverables: what agents produce for their goals, one per goal and period. The unique
-- (goal_instance_id, period_key) makes generation exactly-once whatever runs at the same time.
CREATE TABLE deliverables (
    id                TEXT PRIMARY KEY,
    hired_agent_id    TEXT NOT NULL REFERENCES hired_agents (id),
    customer_id       TEXT NOT NULL REFERENCES customers (id),
    goal_instance_id  TEXT NOT NULL REFERENCES goal_instances (id),
    goal_template_id  TEXT NOT NULL,
    -- daily:YYYY-MM-DD, weekly:YYYY-Www, monthly:YYYY-MM (in the agent's timezone), or
    -- on_demand:<run> for a "run now".
    period_key        TEXT NOT NULL CHECK (length(period_key) BETWEEN 1 AND 200),
    title             TEXT NOT NULL,
    payload           JSONB NOT NULL,
    review_status     TEXT NOT NULL DEFAULT 'pending_review'
                      CHECK (review_status IN ('pending_review', 'approved', 'rejected')),
    execution_status  TEXT NOT NULL DEFAULT 'not_executed'
                      CHECK (execution_status IN ('not_executed', 'executing', 'executed', 'failed')),
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (goal_instance_id, period_key)
);
CREATE INDEX deliverables_agent_idx ON deliverables (hired_agent_id, created_at, id);
CREATE INDEX deliverables_customer_idx ON deliverables (customer_id, created_at, id);
-- The review queue: what waits, oldest first.
CREATE INDEX deliverables_pending_idx ON deliverables (created_at, id) WHERE review_status = 'pending_review';
