-- A plan is its goal and constraints; its steps live in immutable revisions, the latest being the plan's current form.
ALTER TABLE plans
    ADD COLUMN context text,
    ADD COLUMN model text NOT NULL DEFAULT 'simulator',
    ADD COLUMN tools jsonb,
    ADD COLUMN constraints jsonb NOT NULL DEFAULT '{"maxSteps": 200}';

CREATE TABLE plan_revisions (
    plan_id uuid NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    revision integer NOT NULL,
    tenant_id text NOT NULL,
    steps jsonb NOT NULL,
    layers jsonb NOT NULL,
    critical_path jsonb NOT NULL DEFAULT '[]',
    totals jsonb,
    planner jsonb NOT NULL DEFAULT '{"kind": "manual", "attempts": 0}',
    completed jsonb NOT NULL DEFAULT '[]',
    failed jsonb,
    changes jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, revision)
);

CREATE INDEX plan_revisions_tenant ON plan_revisions (tenant_id);

-- Plans stored before revisions existed become their revision 1, steps and layers exactly as they were.
INSERT INTO plan_revisions (plan_id, revision, tenant_id, steps, layers, created_at)
SELECT id, 1, tenant_id, steps, layers, created_at FROM plans;

ALTER TABLE plans DROP COLUMN steps, DROP COLUMN layers;
