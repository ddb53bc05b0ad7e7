-- Versioned agent type definitions (SPEC §3). The whole document is kept as JSONB.

CREATE TABLE agent_type_versions (
    id             TEXT PRIMARY KEY,                 -- "{agent_type_id}@{version}"
    agent_type_id  TEXT NOT NULL,
    version        TEXT NOT NULL,
    version_sort   TEXT COLLATE "C" NOT NULL,        -- sorts like the semantic version (bytewise, whatever the locale)
    status         TEXT NOT NULL CHECK (status IN ('draft', 'published', 'retired')),
    display_name   TEXT NOT NULL,
    document       JSONB NOT NULL,
    created_by     BIGINT NULL REFERENCES users (id),
    published_by   BIGINT NULL REFERENCES users (id),
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    published_at   TIMESTAMPTZ NULL,
    retired_at     TIMESTAMPTZ NULL,
    CONSTRAINT agent_type_versions_unique UNIQUE (agent_type_id, version),
    CONSTRAINT agent_type_versions_id CHECK (id = agent_type_id || '@' || version)
);
-- "Newest (published) version per type" and a type's version list.
CREATE INDEX agent_type_versions_newest_idx ON agent_type_versions (agent_type_id, status, version_sort DESC);
CREATE INDEX agent_type_versions_sort_idx ON agent_type_versions (agent_type_id, version_sort DESC);
