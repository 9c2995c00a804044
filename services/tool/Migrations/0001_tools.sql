-- Tools a tenant registers (HTTP tools) or discovers from its MCP servers; built-in tools live in code and are not rows.
CREATE TABLE tools (
    tenant_id text NOT NULL,
    name text NOT NULL,
    description text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('http', 'mcp')),
    side_effect text NOT NULL CHECK (side_effect IN ('read_only', 'idempotent', 'side_effecting')),
    parameters jsonb NOT NULL,
    result_schema jsonb NULL,
    http jsonb NULL,
    timeout_ms integer NOT NULL DEFAULT 30000 CHECK (timeout_ms BETWEEN 100 AND 600000),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
);

-- A tenant's rules for any tool, built-in or registered: when a human must approve, and how often it may run.
CREATE TABLE tool_policies (
    tenant_id text NOT NULL,
    tool text NOT NULL,
    approval jsonb NULL,
    rate_limit_per_minute integer NULL CHECK (rate_limit_per_minute > 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, tool)
);

-- Every invocation, for exactly-once execution and for audit. Arguments are stored redacted; the real ones are kept
-- only while an approval is pending, since the approved call needs them.
CREATE TABLE tool_invocations (
    id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    key_id text NOT NULL,
    tool text NOT NULL,
    idempotency_key text NOT NULL,
    arguments_hash text NOT NULL,
    arguments jsonb NOT NULL,
    pending_arguments jsonb NULL,
    run_id text NULL,
    step_id text NULL,
    side_effect text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending_approval', 'running', 'succeeded', 'failed', 'denied', 'expired', 'unknown')),
    result jsonb NULL,
    error text NULL,
    result_size integer NULL,
    duration_ms integer NULL,
    approval_id uuid NULL,
    lease_until timestamptz NULL,
    trace_id text NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz NULL,
    UNIQUE (tenant_id, idempotency_key)
);

CREATE INDEX tool_invocations_tenant_created ON tool_invocations (tenant_id, created_at DESC);

CREATE TABLE approvals (
    id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    invocation_id uuid NOT NULL REFERENCES tool_invocations (id),
    tool text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
    reason text NULL,
    decided_by text NULL,
    decided_at timestamptz NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX approvals_pending ON approvals (tenant_id, created_at) WHERE status = 'pending';

CREATE TABLE memory (
    tenant_id text NOT NULL,
    key text NOT NULL,
    value jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);

-- Hosts a tenant's HTTP tools and http_request may reach; an allow-listed host may also be private or loopback.
CREATE TABLE http_allowlist (
    tenant_id text NOT NULL,
    host text NOT NULL,
    PRIMARY KEY (tenant_id, host)
);
