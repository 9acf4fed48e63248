-- mcp-authd schema, version 2: clients known through a Client ID Metadata Document are
-- kept like any other client, with the time their fetched metadata stops being fresh.
ALTER TABLE clients ADD COLUMN metadata_expires_at INTEGER;
