-- mcp-authd schema for PostgreSQL, version 4: what several nodes sharing one database
-- need (DESIGN.md §10.1, §10.2).

-- The change log the registry cache of every node follows (see sql/sqlite/004). Numbers
-- come from one counter row that each logging transaction updates: its row lock is held
-- to the commit, so numbers are dense and in commit order, and a reader that has seen
-- seq N has seen everything before it. A sequence would give neither.
CREATE TABLE registry_seq (
	one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
	last BIGINT NOT NULL
);
INSERT INTO registry_seq(one, last) VALUES (true, 0);

CREATE TABLE registry_changes (
	seq BIGINT PRIMARY KEY,
	kind TEXT NOT NULL,               -- client | registry | jti
	key TEXT,
	expires_at BIGINT,
	at BIGINT NOT NULL DEFAULT extract(epoch FROM now())::bigint
);

CREATE FUNCTION mcp_authd_log_change(p_kind TEXT, p_key TEXT, p_expires BIGINT)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	n BIGINT;
BEGIN
	UPDATE registry_seq SET last = last + 1 RETURNING last INTO n;
	INSERT INTO registry_changes(seq, kind, key, expires_at) VALUES (n, p_kind, p_key, p_expires);
	-- One wake-up per transaction (identical notifications are folded at commit).
	PERFORM pg_notify('mcp_authd_changes', '');
END $$;

CREATE FUNCTION mcp_authd_client_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM mcp_authd_log_change('client', NEW.client_id, NULL);
	ELSE
		PERFORM mcp_authd_log_change('client', OLD.client_id, NULL);
	END IF;
	RETURN NULL;
END $$;

CREATE FUNCTION mcp_authd_redirect_uri_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	cid TEXT;
BEGIN
	IF TG_OP = 'INSERT' THEN
		SELECT client_id INTO cid FROM clients WHERE id = NEW.client;
	ELSE
		SELECT client_id INTO cid FROM clients WHERE id = OLD.client;
	END IF;
	IF cid IS NOT NULL THEN
		PERFORM mcp_authd_log_change('client', cid, NULL);
	END IF;
	RETURN NULL;
END $$;

CREATE FUNCTION mcp_authd_registry_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM mcp_authd_log_change('registry', NULL, NULL);
	RETURN NULL;
END $$;

CREATE FUNCTION mcp_authd_jti_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM mcp_authd_log_change('jti', NEW.jti, NEW.expires_at);
	RETURN NULL;
END $$;

CREATE TRIGGER clients_logged AFTER INSERT OR UPDATE OR DELETE ON clients
	FOR EACH ROW EXECUTE FUNCTION mcp_authd_client_changed();
CREATE TRIGGER redirect_uris_logged AFTER INSERT OR DELETE ON client_redirect_uris
	FOR EACH ROW EXECUTE FUNCTION mcp_authd_redirect_uri_changed();
CREATE TRIGGER resources_logged AFTER INSERT OR UPDATE OR DELETE ON resources
	FOR EACH STATEMENT EXECUTE FUNCTION mcp_authd_registry_changed();
CREATE TRIGGER edges_logged AFTER INSERT OR UPDATE OR DELETE ON exchange_edges
	FOR EACH STATEMENT EXECUTE FUNCTION mcp_authd_registry_changed();
CREATE TRIGGER client_resources_logged AFTER INSERT OR DELETE ON client_resources
	FOR EACH STATEMENT EXECUTE FUNCTION mcp_authd_registry_changed();
CREATE TRIGGER revoked_jtis_logged AFTER INSERT ON revoked_jtis
	FOR EACH ROW EXECUTE FUNCTION mcp_authd_jti_revoked();

-- Fixed-window counters that every node increments (registration rate per address).
CREATE TABLE rate_limits (
	key TEXT NOT NULL,
	window_start BIGINT NOT NULL,
	count BIGINT NOT NULL,
	PRIMARY KEY (key, window_start)
);
