-- A caller's Idempotency-Key on a plan or a revision: the same key answers what it first made, once per tenant.
ALTER TABLE plans ADD COLUMN idempotency_key text NULL;
CREATE UNIQUE INDEX plans_idempotency_key ON plans (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

ALTER TABLE plan_revisions ADD COLUMN idempotency_key text NULL;
CREATE UNIQUE INDEX plan_revisions_idempotency_key ON plan_revisions (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
