CREATE TABLE usage_ledger (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL,
    tenant_id text NOT NULL,
    key_id text NOT NULL,
    alias text NOT NULL,
    deployment text NULL,
    input_tokens integer NOT NULL,
    output_tokens integer NOT NULL,
    cost_usd numeric(18, 8) NOT NULL,
    latency_ms integer NOT NULL,
    cache_hit boolean NOT NULL,
    status integer NOT NULL,
    trace_id text NULL
);

CREATE INDEX usage_ledger_tenant_time ON usage_ledger (tenant_id, occurred_at);

-- key_id '' is the tenant as a whole.
CREATE TABLE budgets (
    tenant_id text NOT NULL,
    key_id text NOT NULL DEFAULT '',
    daily_usd numeric(18, 6) NULL CHECK (daily_usd >= 0),
    monthly_usd numeric(18, 6) NULL CHECK (monthly_usd >= 0),
    rpm integer NULL CHECK (rpm > 0),
    tpm integer NULL CHECK (tpm > 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key_id)
);
