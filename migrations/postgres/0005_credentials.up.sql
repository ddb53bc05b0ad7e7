-- Customers' credentials (API keys, tokens): stored encrypted (AES-256-GCM, a key derived from
-- AGENTDESK_SECRET_KEY, never kept here), referred to from configurations by id (`CRED-…`) only.
CREATE TABLE credentials (
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL REFERENCES customers (id),
    label        TEXT NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    sealed       TEXT NOT NULL,          -- base64url(nonce || ciphertext), bound to the id
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX credentials_customer_idx ON credentials (customer_id, created_at);
