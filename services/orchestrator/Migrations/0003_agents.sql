-- Versions are never updated, except that deleting an agent stamps its latest version: the tombstone. Every version
-- stays readable by number for the runs that used it.
CREATE TABLE agents (
    tenant_id text NOT NULL REFERENCES tenants (id),
    name text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    version integer NOT NULL CHECK (version > 0),
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    deleted_at timestamptz NULL,
    PRIMARY KEY (tenant_id, name, version)
);
