-- The Idempotency-Key a chat request carried, so a caller's repeats can be matched to the one call that was paid for.
ALTER TABLE usage_ledger ADD COLUMN idempotency_key text NULL;
