-- Smaller indexes, for a million keys and their events.
--
-- The search indexes keep no copy of the text they index (FTS4 external
-- content): when they drop a row's words they read them from a view that
-- computes the text from the row, with the functions the store indexes it
-- with (store.searchTerms, store.eventTerms, registered on every
-- connection). So a row's search entry goes before the row changes.
-- Nothing uses matchinfo, so the size of each row is not kept either.
DROP TABLE key_search;
CREATE VIEW key_search_text (rowid, terms) AS
    SELECT id, keydesk_key_terms(name, created_by, public_id) FROM keys;
CREATE VIRTUAL TABLE key_search USING fts4 (terms, content=key_search_text, matchinfo=fts3, tokenize=simple);
INSERT INTO key_search (key_search) VALUES ('rebuild');

DROP TABLE event_search;
CREATE VIEW event_search_text (rowid, terms) AS
    SELECT id, keydesk_event_terms(actor_username, action, target_type, target_id, target_name, bulk_id) FROM events;
CREATE VIRTUAL TABLE event_search USING fts4 (terms, content=event_search_text, matchinfo=fts3, tokenize=simple);
INSERT INTO event_search (event_search) VALUES ('rebuild');

-- Nothing sorts by the truncated key any more.
DROP INDEX keys_by_hint;

-- name_sort gets shorter (store.sortName: a run of digits after its
-- length, no longer padded to 20 digits), and every index that carries it
-- is built again. The rowid ends every index already: naming id as well
-- stored it twice. keys_by_expiry keeps it, for the columns after it.
DROP INDEX keys_by_name;
DROP INDEX keys_by_permissions;
DROP INDEX keys_by_enabled;
DROP INDEX keys_by_expiry;
DROP INDEX keys_by_creator;
DROP INDEX keys_by_created;
DROP INDEX keys_by_last_used;
DROP INDEX keys_by_uses;
DROP INDEX keys_by_org;
UPDATE keys SET name_sort = keydesk_sort_name(name);
CREATE INDEX keys_by_name ON keys (name_sort);
CREATE INDEX keys_by_permissions ON keys (permissions, name_sort);
CREATE INDEX keys_by_enabled ON keys (enabled, name_sort);
CREATE INDEX keys_by_expiry ON keys (expires_sort, name_sort, id, revoked_at, enabled);
CREATE INDEX keys_by_creator ON keys (created_by, name_sort);
CREATE INDEX keys_by_created ON keys (created_at, name_sort);
CREATE INDEX keys_by_last_used ON keys (last_used_sort, name_sort);
CREATE INDEX keys_by_uses ON keys (use_count, name_sort);
CREATE INDEX keys_by_org ON keys (org_id, name_sort);
DROP INDEX events_by_target;
DROP INDEX events_by_action;
DROP INDEX events_by_actor;
DROP INDEX events_by_org;
CREATE INDEX events_by_target ON events (target_type, target_id);
CREATE INDEX events_by_action ON events (action);
CREATE INDEX events_by_actor ON events (actor_username);
CREATE INDEX events_by_org ON events (org_id);
