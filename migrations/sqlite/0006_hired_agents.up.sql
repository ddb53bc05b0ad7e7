-- Hired agents (one per subscription, pinned to the subscription's agent type version) and their
-- goals. Every change bumps `row_version`: a save names the version it was based on, so two people
-- editing at once cannot silently overwrite each other.
CREATE TABLE hired_agents (
    id                  TEXT PRIMARY KEY,
    subscription_id     TEXT NOT NULL UNIQUE REFERENCES subscriptions (id),
    customer_id         TEXT NOT NULL REFERENCES customers (id),
    agent_id            TEXT NULL,                -- the Phase-1 listing id, as given
    agent_type_id       TEXT NOT NULL,
    agent_type_version  TEXT NOT NULL,
    nickname            TEXT NULL CHECK (nickname IS NULL OR length(nickname) <= 200),
    theme               TEXT NULL CHECK (theme IN ('default', 'dark', 'light')),
    config              TEXT NOT NULL DEFAULT '{}',
    configured          INTEGER NOT NULL DEFAULT 0 CHECK (configured IN (0, 1)),
    goals_completed     INTEGER NOT NULL DEFAULT 0 CHECK (goals_completed IN (0, 1)),
    -- The customer confirmed the wizard's goal step (Phase 1's request flag `goals_completed`).
    goals_confirmed     INTEGER NOT NULL DEFAULT 0 CHECK (goals_confirmed IN (0, 1)),
    active              INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    paused              INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    paused_at           TEXT NULL,
    trial_status        TEXT NOT NULL DEFAULT 'not_started'
                        CHECK (trial_status IN ('not_started', 'active', 'ended_converted', 'ended_not_converted')),
    trial_start_at      TEXT NULL,
    trial_end_at        TEXT NULL,
    trial_ended_at      TEXT NULL,
    row_version         INTEGER NOT NULL DEFAULT 1 CHECK (row_version > 0),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    FOREIGN KEY (agent_type_id, agent_type_version) REFERENCES agent_type_versions (agent_type_id, version),
    CHECK ((trial_status = 'not_started') = (trial_start_at IS NULL)),
    CHECK ((trial_start_at IS NULL) = (trial_end_at IS NULL)),
    CHECK ((trial_status IN ('ended_converted', 'ended_not_converted')) = (trial_ended_at IS NOT NULL)),
    CHECK (paused = (paused_at IS NOT NULL))
);
CREATE INDEX hired_agents_customer_idx ON hired_agents (customer_id, created_at DESC, id DESC);
CREATE INDEX hired_agents_created_idx ON hired_agents (created_at DESC, id DESC);
CREATE INDEX hired_agents_type_idx ON hired_agents (agent_type_id, created_at DESC, id DESC);
-- The trial-end pass looks only at running trials that are due.
CREATE INDEX hired_agents_trial_due_idx ON hired_agents (trial_end_at) WHERE trial_status = 'active';

-- A goal of a hired agent. Deleting one keeps the row (and later its deliverables): `deleted_at`.
CREATE TABLE goal_instances (
    id                TEXT PRIMARY KEY,
    hired_agent_id    TEXT NOT NULL REFERENCES hired_agents (id),
    customer_id       TEXT NOT NULL REFERENCES customers (id),
    goal_template_id  TEXT NOT NULL CHECK (length(goal_template_id) BETWEEN 1 AND 200),
    frequency         TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly', 'monthly', 'on_demand')),
    settings          TEXT NOT NULL DEFAULT '{}',
    enabled           INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    row_version       INTEGER NOT NULL DEFAULT 1 CHECK (row_version > 0),
    deleted_at        TEXT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX goal_instances_agent_idx ON goal_instances (hired_agent_id, created_at, id);
-- Generation reads enabled, live goals by frequency.
CREATE INDEX goal_instances_due_idx ON goal_instances (frequency, hired_agent_id) WHERE enabled = 1 AND deleted_at IS NULL;
