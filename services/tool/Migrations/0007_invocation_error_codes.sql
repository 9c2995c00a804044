-- Why a failed invocation failed (InvocationErrors), so a replayed answer tells a caller whether to retry, as the first did.
ALTER TABLE tool_invocations ADD COLUMN error_code text NULL;
