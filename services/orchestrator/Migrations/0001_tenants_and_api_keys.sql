CREATE TABLE tenants (
    id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,39}$'),
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id uuid PRIMARY KEY,
    tenant_id text NOT NULL REFERENCES tenants (id),
    name text NOT NULL,
    key_hash text NOT NULL UNIQUE,
    key_prefix text NOT NULL,
    scopes text[] NOT NULL,
    is_bootstrap boolean NOT NULL DEFAULT false,
    created_by uuid NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NULL,
    revoked_at timestamptz NULL
);

CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

INSERT INTO tenants (id, name) VALUES ('system', 'System');
