ALTER TABLE tenants
    ADD COLUMN deactivated_at timestamptz NULL,
    ADD COLUMN deleted_at timestamptz NULL,
    ADD COLUMN purge_after timestamptz NULL;
