-- mcp-authd schema, version 3: fewer pages written per token.
-- Refresh token expiry is read through the family (purge keeps a family while any of
-- its tokens is current), so the per-token expiry index only cost a page per refresh.
DROP INDEX IF EXISTS refresh_tokens_expires;
-- Audit rows are appended in time order, so purge finds old ones by rowid; the time
-- index cost a page on every token event.
DROP INDEX IF EXISTS audit_ts;
