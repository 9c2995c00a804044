-- Expand: the ledger learns the provider's region; rows this version writes leave it empty.
ALTER TABLE usage_ledger ADD COLUMN region text;
CREATE INDEX usage_ledger_region ON usage_ledger (region) WHERE region IS NOT NULL;
