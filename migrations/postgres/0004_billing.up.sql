-- Customers, coupon checkout, subscriptions and GST billing.

-- A customer's billing address (printed on invoices) and indexes for the staff search
-- ("contains" on name, e-mail or GSTIN).
ALTER TABLE customers ADD COLUMN billing_address TEXT NULL CHECK (billing_address IS NULL OR length(billing_address) <= 1000);
CREATE INDEX customers_email_trgm_idx ON customers USING gin (lower(email) gin_trgm_ops);
CREATE INDEX customers_gstin_trgm_idx ON customers USING gin (gstin gin_trgm_ops);
CREATE INDEX customers_created_idx ON customers (created_at DESC, id DESC);

-- A hire: pinned to the agent type version that was newest when it was bought.
CREATE TABLE subscriptions (
    id                    TEXT PRIMARY KEY,
    customer_id           TEXT NOT NULL REFERENCES customers (id),
    agent_id              TEXT NULL,                -- the Phase-1 listing id, as given
    agent_type_id         TEXT NOT NULL,
    agent_type_version    TEXT NOT NULL,
    duration              TEXT NOT NULL CHECK (duration IN ('monthly', 'quarterly', 'yearly')),
    status                TEXT NOT NULL CHECK (status IN ('active', 'canceled')),
    current_period_start  TIMESTAMPTZ NOT NULL,
    current_period_end    TIMESTAMPTZ NOT NULL,
    cancel_at_period_end  BOOLEAN NOT NULL DEFAULT FALSE,
    ended_at              TIMESTAMPTZ NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (agent_type_id, agent_type_version) REFERENCES agent_type_versions (agent_type_id, version),
    CHECK (current_period_end > current_period_start),
    CHECK ((status = 'canceled') = (ended_at IS NOT NULL))
);
CREATE INDEX subscriptions_customer_idx ON subscriptions (customer_id, current_period_end);
-- The period-end job looks only at active subscriptions whose period is over.
CREATE INDEX subscriptions_period_end_idx ON subscriptions (current_period_end) WHERE status = 'active';

-- One order per bought period: the checkout's first, then one per renewal. The unique period makes a
-- renewal exactly-once whatever runs at the same time.
CREATE TABLE orders (
    id                TEXT PRIMARY KEY,
    customer_id       TEXT NOT NULL REFERENCES customers (id),
    subscription_id   TEXT NOT NULL REFERENCES subscriptions (id),
    kind              TEXT NOT NULL CHECK (kind IN ('checkout', 'renewal')),
    payment_provider  TEXT NOT NULL CHECK (payment_provider IN ('coupon')),
    coupon_code       TEXT NULL,
    duration          TEXT NOT NULL CHECK (duration IN ('monthly', 'quarterly', 'yearly')),
    period_start      TIMESTAMPTZ NOT NULL,
    period_end        TIMESTAMPTZ NOT NULL,
    list_amount       BIGINT NOT NULL CHECK (list_amount >= 0),   -- paise
    amount            BIGINT NOT NULL CHECK (amount >= 0),        -- paise, what was charged
    currency          TEXT NOT NULL CHECK (currency = 'INR'),
    status            TEXT NOT NULL CHECK (status IN ('paid')),
    created_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (subscription_id, period_start)
);
CREATE INDEX orders_customer_idx ON orders (customer_id, created_at);

-- Gap-free per-day numbers for invoices and receipts: the counter row is updated inside the
-- transaction that issues the document, so a rolled-back checkout gives its number back.
CREATE TABLE document_counters (
    kind  TEXT NOT NULL CHECK (kind IN ('invoice', 'receipt')),
    day   TEXT NOT NULL,                                  -- YYYYMMDD in the billing timezone
    last  BIGINT NOT NULL CHECK (last > 0),
    PRIMARY KEY (kind, day)
);

-- GST invoices: every amount in paise, the sums checked by the database, never changed once issued.
CREATE TABLE invoices (
    id                         TEXT PRIMARY KEY,
    number                     TEXT NOT NULL UNIQUE,
    customer_id                TEXT NOT NULL REFERENCES customers (id),
    order_id                   TEXT NOT NULL UNIQUE REFERENCES orders (id),
    subscription_id            TEXT NOT NULL REFERENCES subscriptions (id),
    currency                   TEXT NOT NULL CHECK (currency = 'INR'),
    seller_legal_name          TEXT NOT NULL,
    seller_gstin               TEXT NULL,
    seller_state_code          TEXT NOT NULL,
    customer_business_name     TEXT NOT NULL,
    customer_business_address  TEXT NULL,
    customer_gstin             TEXT NULL,
    customer_state_code        TEXT NULL,
    description                TEXT NOT NULL,
    period_start               TIMESTAMPTZ NOT NULL,
    period_end                 TIMESTAMPTZ NOT NULL,
    subtotal_amount            BIGINT NOT NULL CHECK (subtotal_amount >= 0),
    discount_amount            BIGINT NOT NULL CHECK (discount_amount >= 0),
    taxable_amount             BIGINT NOT NULL CHECK (taxable_amount >= 0),
    cgst_amount                BIGINT NOT NULL CHECK (cgst_amount >= 0),
    sgst_amount                BIGINT NOT NULL CHECK (sgst_amount >= 0),
    igst_amount                BIGINT NOT NULL CHECK (igst_amount >= 0),
    total_amount               BIGINT NOT NULL,
    tax_type                   TEXT NOT NULL CHECK (tax_type IN ('cgst_sgst', 'igst', 'none')),
    created_at                 TIMESTAMPTZ NOT NULL,
    CHECK (taxable_amount = subtotal_amount - discount_amount),
    CHECK (total_amount = taxable_amount + cgst_amount + sgst_amount + igst_amount)
);
CREATE INDEX invoices_customer_idx ON invoices (customer_id, created_at);
CREATE INDEX invoices_subscription_idx ON invoices (subscription_id);

CREATE TABLE receipts (
    id               TEXT PRIMARY KEY,
    number           TEXT NOT NULL UNIQUE,
    customer_id      TEXT NOT NULL REFERENCES customers (id),
    order_id         TEXT NOT NULL UNIQUE REFERENCES orders (id),
    subscription_id  TEXT NOT NULL REFERENCES subscriptions (id),
    currency         TEXT NOT NULL CHECK (currency = 'INR'),
    description      TEXT NOT NULL,
    total_amount     BIGINT NOT NULL CHECK (total_amount >= 0),
    payment_status   TEXT NOT NULL CHECK (payment_status IN ('paid')),
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX receipts_customer_idx ON receipts (customer_id, created_at);
CREATE INDEX receipts_subscription_idx ON receipts (subscription_id);

-- Issued documents are append-only, like the audit trail.
CREATE TRIGGER invoices_append_only BEFORE UPDATE OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION agentdesk_refuse_change();
CREATE TRIGGER receipts_append_only BEFORE UPDATE OR DELETE ON receipts
    FOR EACH ROW EXECUTE FUNCTION agentdesk_refuse_change();
CREATE TRIGGER invoices_no_truncate BEFORE TRUNCATE ON invoices
    FOR EACH STATEMENT EXECUTE FUNCTION agentdesk_refuse_change();
CREATE TRIGGER receipts_no_truncate BEFORE TRUNCATE ON receipts
    FOR EACH STATEMENT EXECUTE FUNCTION agentdesk_refuse_change();

-- Idempotency keys of checkouts, one per customer and key: the first request's fingerprint and
-- answer, so a repeat (double click, reload, retry, another instance) replays it.
CREATE TABLE idempotency_keys (
    customer_id  TEXT NOT NULL REFERENCES customers (id),
    key          TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    fingerprint  TEXT NOT NULL,
    response     TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (customer_id, key)
);
