-- Expand: tools can be marked deprecated, and invocations record who asked; both optional to this version.
ALTER TABLE tools ADD COLUMN deprecated_at timestamptz;
ALTER TABLE tool_invocations ADD COLUMN requested_by text;
