-- The variables a stdio MCP server's process starts with (it inherits nothing else); values may reference the
-- tenant's secrets as {{secret:name}}, filled in when the process starts.
ALTER TABLE mcp_servers ADD COLUMN environment jsonb NOT NULL DEFAULT '{}';
