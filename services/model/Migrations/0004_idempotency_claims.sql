-- A chat request's Idempotency-Key, claimed before the request goes upstream and kept until its retention ends, so no
-- repeat pays for the call again whatever Redis loses. While in flight the owner's lease is extended; a lease that
-- lapses without an answer means the owner died mid-call. The answer is text, not jsonb: an upstream's may hold \u0000.
CREATE TABLE idempotency_claims (
    tenant_id text NOT NULL,
    idempotency_key text NOT NULL,
    fingerprint text NOT NULL,
    owner uuid NOT NULL,
    lease_until timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    answer text NULL,
    cost_usd numeric(18, 8) NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz NULL,
    PRIMARY KEY (tenant_id, idempotency_key)
);

CREATE INDEX idempotency_claims_expiry ON idempotency_claims (expires_at);
