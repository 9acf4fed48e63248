-- mcp-authd schema, version 4: what several processes sharing one database need
-- (DESIGN.md §10.1, §10.2).

-- The change log the registry cache of every process follows. Triggers write it, so a
-- change made by any node or by the CLI is seen; seq is dense and in commit order (one
-- writer at a time in SQLite), so a reader that sees a hole knows rows were purged.
--   client    key = client_id: drop that client from the cache
--   registry  resources, exchange edges or client_credentials grants changed: reload them
--   jti       key = a revoked access token's jti, expires_at = its expiry
CREATE TABLE registry_changes (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	kind TEXT NOT NULL,
	key TEXT,
	expires_at INTEGER,
	at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);

CREATE TRIGGER clients_logged_insert AFTER INSERT ON clients BEGIN
	INSERT INTO registry_changes(kind, key) VALUES ('client', NEW.client_id);
END;
CREATE TRIGGER clients_logged_update AFTER UPDATE ON clients BEGIN
	INSERT INTO registry_changes(kind, key) VALUES ('client', OLD.client_id);
END;
CREATE TRIGGER clients_logged_delete AFTER DELETE ON clients BEGIN
	INSERT INTO registry_changes(kind, key) VALUES ('client', OLD.client_id);
END;
CREATE TRIGGER redirect_uris_logged_insert AFTER INSERT ON client_redirect_uris BEGIN
	INSERT INTO registry_changes(kind, key)
	SELECT 'client', client_id FROM clients WHERE id = NEW.client;
END;
CREATE TRIGGER redirect_uris_logged_delete AFTER DELETE ON client_redirect_uris BEGIN
	INSERT INTO registry_changes(kind, key)
	SELECT 'client', client_id FROM clients WHERE id = OLD.client;
END;
CREATE TRIGGER resources_logged_insert AFTER INSERT ON resources BEGIN
	INSERT INTO registry_changes(kind) VALUES ('registry');
END;
CREATE TRIGGER resources_logged_update AFTER UPDATE ON resources BEGIN
	INSERT INTO registry_changes(kind) VALUES ('registry');
END;
CREATE TRIGGER resources_logged_delete AFTER DELETE ON resources BEGIN
	INSERT INTO registry_changes(kind) VALUES ('registry');
END;
CREATE TRIGGER edges_logged_insert AFTER INSERT ON exchange_edges BEGIN
	INSERT INTO registry_changes(kind) VALUES ('registry');
END;
CREATE TRIGGER edges_logged_update AFTER UPDATE ON exchange_edges BEGIN
	INSERT INTO registry_changes(kind) VALUES ('registry');
END;
CREATE TRIGGER edges_logged_delete AFTER DELETE ON exchange_edges BEGIN
	INSERT INTO registry_changes(kind) VALUES ('registry');
END;
CREATE TRIGGER client_resources_logged_insert AFTER INSERT ON client_resources BEGIN
	INSERT INTO registry_changes(kind) VALUES ('registry');
END;
CREATE TRIGGER client_resources_logged_delete AFTER DELETE ON client_resources BEGIN
	INSERT INTO registry_changes(kind) VALUES ('registry');
END;
CREATE TRIGGER revoked_jtis_logged AFTER INSERT ON revoked_jtis BEGIN
	INSERT INTO registry_changes(kind, key, expires_at) VALUES ('jti', NEW.jti, NEW.expires_at);
END;

-- Fixed-window counters that every node increments (registration rate per address).
CREATE TABLE rate_limits (
	key TEXT NOT NULL,
	window_start INTEGER NOT NULL,
	count INTEGER NOT NULL,
	PRIMARY KEY (key, window_start)
) WITHOUT ROWID;
