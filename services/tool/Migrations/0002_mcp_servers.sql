CREATE TABLE mcp_servers (
    tenant_id text NOT NULL,
    name text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
    transport text NOT NULL CHECK (transport IN ('stdio', 'http')),
    command text NULL,
    arguments text[] NOT NULL DEFAULT '{}',
    url text NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
);
