-- Aliases a tenant defines for itself; they override the platform-wide aliases from configuration.
CREATE TABLE model_aliases (
    tenant_id text NOT NULL,
    alias text NOT NULL,
    strategy text NOT NULL CHECK (strategy IN ('ordered', 'weighted', 'lowest-latency')),
    deployments jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, alias)
);
