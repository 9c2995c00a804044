-- Expand: runs get labels and schedules get a table. This version never reads them; the next one writes and reads both.
ALTER TABLE runs ADD COLUMN labels jsonb;
ALTER TABLE run_steps ADD COLUMN retried_by text;
CREATE TABLE run_schedules (
    id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    agent text NOT NULL,
    cron text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX run_schedules_tenant ON run_schedules (tenant_id);
