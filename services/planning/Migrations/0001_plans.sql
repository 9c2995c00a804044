CREATE TABLE plans (
    id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    goal text NOT NULL,
    steps jsonb NOT NULL,
    layers jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX plans_tenant_created ON plans (tenant_id, created_at DESC);
