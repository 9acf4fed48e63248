-- mcp-authd schema for PostgreSQL, version 2: when a Client ID Metadata Document's
-- fetched metadata stops being fresh.
ALTER TABLE clients ADD COLUMN metadata_expires_at BIGINT;
