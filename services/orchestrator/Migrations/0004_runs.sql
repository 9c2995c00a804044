-- A run's key: minted when the run is accepted, so its steps act for the run's tenant after the caller has gone.
ALTER TABLE api_keys ADD COLUMN run_id uuid NULL;

CREATE TABLE runs (
    id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    agent text NOT NULL,
    agent_version integer NOT NULL,
    -- The definition as it was when the run was accepted: later versions never change a run.
    agent_definition jsonb NOT NULL,
    goal text NOT NULL,
    input jsonb NULL,
    metadata jsonb NULL,
    webhook_url text NULL,
    idempotency_key text NULL,
    created_by text NOT NULL,
    run_key_id uuid NOT NULL,
    run_key text NOT NULL,
    state text NOT NULL,
    reason text NULL,
    output jsonb NULL,
    plan_id uuid NULL,
    plan_revision integer NULL,
    replans integer NOT NULL DEFAULT 0,
    cost_usd numeric(18, 8) NOT NULL DEFAULT 0,
    prompt_tokens integer NOT NULL DEFAULT 0,
    completion_tokens integer NOT NULL DEFAULT 0,
    -- The last event sequence number used: events are numbered in the statement that writes them.
    event_seq integer NOT NULL DEFAULT 0,
    cancel_requested boolean NOT NULL DEFAULT false,
    lease_owner text NULL,
    lease_until timestamptz NULL,
    wake_at timestamptz NOT NULL DEFAULT now(),
    deadline timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz NULL,
    UNIQUE (tenant_id, idempotency_key)
);

CREATE INDEX runs_claimable ON runs (wake_at) WHERE state IN ('queued', 'planning', 'running', 'waiting_approval');
CREATE INDEX runs_tenant_created ON runs (tenant_id, created_at DESC);

CREATE TABLE run_steps (
    run_id uuid NOT NULL REFERENCES runs (id),
    id text NOT NULL,
    tenant_id text NOT NULL,
    position integer NOT NULL,
    kind text NOT NULL,
    title text NOT NULL,
    instruction text NOT NULL,
    tool text NULL,
    arguments jsonb NULL,
    depends_on text[] NOT NULL,
    acceptance text NULL,
    -- The call that undoes this step's effect if the run fails after it, named when the step was planned.
    compensation jsonb NULL,
    state text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    -- One entry per attempt: when it started and ended, and how.
    attempt_log jsonb NOT NULL DEFAULT '[]',
    output jsonb NULL,
    error text NULL,
    -- A failure the planning service may plan around (not a person's denial, a spent budget or an unknown outcome).
    replannable boolean NOT NULL DEFAULT false,
    invocation_id uuid NULL,
    -- null until the run fails after this step and its compensation has been asked: then 'succeeded' or 'failed'.
    compensation_state text NULL,
    compensation_error text NULL,
    cost_usd numeric(18, 8) NOT NULL DEFAULT 0,
    prompt_tokens integer NOT NULL DEFAULT 0,
    completion_tokens integer NOT NULL DEFAULT 0,
    started_at timestamptz NULL,
    finished_at timestamptz NULL,
    PRIMARY KEY (run_id, id)
);

CREATE TABLE run_events (
    run_id uuid NOT NULL REFERENCES runs (id),
    seq integer NOT NULL,
    tenant_id text NOT NULL,
    type text NOT NULL,
    step_id text NULL,
    data jsonb NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id text NOT NULL,
    run_id uuid NOT NULL REFERENCES runs (id),
    event_seq integer NOT NULL,
    url text NOT NULL,
    payload jsonb NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz NULL,
    last_error text NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
