-- Values HTTP tools reference in their headers as {{secret:name}}; written and used, never read back through the API.
CREATE TABLE secrets (
    tenant_id text NOT NULL,
    name text NOT NULL CHECK (name ~ '^[A-Za-z0-9_-]{1,64}$'),
    value text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
);
