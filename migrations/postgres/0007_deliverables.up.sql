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
    review_notes      TEXT NULL CHECK (review_notes IS NULL OR length(review_notes) <= 4000),
    approval_id       TEXT NULL,                -- the decision's record in approvals
    decided_at        TIMESTAMPTZ NULL,
    -- What execution uses when the reviewer approved with edits (the original stays in payload).
    edited_payload    JSONB NULL,
    execution_status  TEXT NOT NULL DEFAULT 'not_executed'
                      CHECK (execution_status IN ('not_executed', 'executing', 'executed', 'failed')),
    executed_at       TIMESTAMPTZ NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (goal_instance_id, period_key),
    CHECK ((review_status = 'pending_review') = (decided_at IS NULL))
);
CREATE INDEX deliverables_agent_idx ON deliverables (hired_agent_id, created_at, id);
CREATE INDEX deliverables_customer_idx ON deliverables (customer_id, created_at, id);
-- The review queue: what waits, oldest first.
CREATE INDEX deliverables_pending_idx ON deliverables (created_at, id) WHERE review_status = 'pending_review';

-- Every decision, kept forever: the database refuses to change or delete one, and allows one per
-- deliverable, so of two people deciding at once exactly one wins.
CREATE TABLE approvals (
    id                TEXT PRIMARY KEY,
    deliverable_id    TEXT NOT NULL UNIQUE REFERENCES deliverables (id),
    customer_id       TEXT NOT NULL REFERENCES customers (id),
    decided_by        BIGINT NULL REFERENCES users (id),
    decided_by_role   TEXT NULL,
    on_behalf         BOOLEAN NOT NULL,
    decision          TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
    notes             TEXT NULL,
    original_payload  JSONB NOT NULL,
    edited_payload    JSONB NULL,
    correlation_id    TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    CHECK (decision = 'approved' OR edited_payload IS NULL)
);
CREATE INDEX approvals_customer_idx ON approvals (customer_id, created_at);
CREATE TRIGGER approvals_append_only BEFORE UPDATE OR DELETE ON approvals
    FOR EACH ROW EXECUTE FUNCTION agentdesk_refuse_change();
CREATE TRIGGER approvals_no_truncate BEFORE TRUNCATE ON approvals
    FOR EACH STATEMENT EXECUTE FUNCTION agentdesk_refuse_change();
