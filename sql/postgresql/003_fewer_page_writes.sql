-- mcp-authd schema for PostgreSQL, version 3: refresh token expiry is read through the
-- family, so the per-token expiry index only cost a write per refresh. (The audit time
-- index stays: purge finds old rows by time here, not by id.)
DROP INDEX IF EXISTS refresh_tokens_expires;
