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

-- Executions the policy refused, kept forever: who, why, with the request's correlation id.
CREATE TABLE execution_denials (
    id              TEXT PRIMARY KEY,
    deliverable_id  TEXT NOT NULL REFERENCES deliverables (id),
    customer_id     TEXT NOT NULL REFERENCES customers (id),
    reason          TEXT NOT NULL CHECK (reason IN ('approval_required', 'approval_invalid', 'guardrail_failed')),
    action          TEXT NOT NULL,
    actor_user_id   BIGINT NULL REFERENCES users (id),
    actor_role      TEXT NULL,
    on_behalf       BOOLEAN NOT NULL,
    correlation_id  TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX execution_denials_deliverable_idx ON execution_denials (deliverable_id, created_at);
CREATE TRIGGER execution_denials_append_only BEFORE UPDATE OR DELETE ON execution_denials
    FOR EACH ROW EXECUTE FUNCTION agentdesk_refuse_change();
CREATE TRIGGER execution_denials_no_truncate BEFORE TRUNCATE ON execution_denials
    FOR EACH STATEMENT EXECUTE FUNCTION agentdesk_refuse_change();

-- What an execution hands to the integrations that carry it out (a channel, an exchange): written
-- in the execution's transaction, drained by the job runner, one row per deliverable and
-- integration so nothing is handed over twice. Credentials by reference only.
CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    deliverable_id   TEXT NOT NULL REFERENCES deliverables (id),
    customer_id      TEXT NOT NULL REFERENCES customers (id),
    integration      TEXT NOT NULL,
    action           TEXT NOT NULL,
    payload          JSONB NOT NULL,
    credential_ref   TEXT NULL,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_error       TEXT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (deliverable_id, integration)
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status = 'pending';

-- The log of each execution: its steps, and what a model used when one was involved.
CREATE TABLE execution_runs (
    id                   TEXT PRIMARY KEY,
    deliverable_id       TEXT NOT NULL REFERENCES deliverables (id),
    status               TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
    ai_model             TEXT NULL,
    ai_input_tokens      BIGINT NULL CHECK (ai_input_tokens IS NULL OR ai_input_tokens >= 0),
    ai_output_tokens     BIGINT NULL CHECK (ai_output_tokens IS NULL OR ai_output_tokens >= 0),
    ai_cost_minor        BIGINT NULL CHECK (ai_cost_minor IS NULL OR ai_cost_minor >= 0),
    correlation_id       TEXT NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX execution_runs_deliverable_idx ON execution_runs (deliverable_id, created_at);
CREATE TABLE execution_steps (
    run_id          TEXT NOT NULL REFERENCES execution_runs (id),
    step_number     INTEGER NOT NULL CHECK (step_number > 0),
    action          TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('succeeded', 'failed', 'skipped')),
    output_summary  TEXT NOT NULL,
    output          JSONB NOT NULL,
    duration_ms     BIGINT NOT NULL CHECK (duration_ms >= 0),
    PRIMARY KEY (run_id, step_number)
);
