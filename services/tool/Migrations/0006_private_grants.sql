-- Private, loopback and link-local destinations the platform operator granted a tenant: the tenant's own allowlist
-- may only narrow where its calls go, never open the platform's network.
CREATE TABLE http_private_grants (
    tenant_id text NOT NULL,
    host text NOT NULL,
    granted_by text NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, host)
);
