CREATE TABLE tools (
    tenant_id text NOT NULL,
    name text NOT NULL,
    description text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('builtin', 'http', 'mcp')),
    side_effect text NOT NULL CHECK (side_effect IN ('read_only', 'idempotent', 'side_effecting')),
    parameters jsonb NOT NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
);
