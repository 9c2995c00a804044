-- A tenant_id of '' is the platform-wide catalog; a tenant's own row for the same alias overrides it.
CREATE TABLE model_aliases (
    tenant_id text NOT NULL DEFAULT '',
    alias text NOT NULL,
    provider text NOT NULL,
    upstream_model text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, alias)
);

INSERT INTO model_aliases (tenant_id, alias, provider, upstream_model)
VALUES ('', 'simulator', 'simulator', 'platform-simulator-1');
