-- Expand: a constant default is a catalog change in PostgreSQL 11 and later, so existing rows are not rewritten.
ALTER TABLE plans ADD COLUMN priority integer NOT NULL DEFAULT 0;
ALTER TABLE plan_revisions ADD COLUMN summary text;
