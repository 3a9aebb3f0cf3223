-- Names sort naturally: apac-9 before apac-10. name_sort holds the sort key
-- (store.sortName: folded, digit runs padded to 20), written by the store on
-- every insert and rename; keydesk_sort_name is the same function,
-- registered on every connection, to fill in the keys already there. Each
-- sort index breaks ties by it, so that keyset paging stays on one index.
ALTER TABLE keys ADD COLUMN name_sort TEXT NOT NULL DEFAULT '';
UPDATE keys SET name_sort = keydesk_sort_name(name);

DROP INDEX keys_by_name;
DROP INDEX keys_by_permissions;
DROP INDEX keys_by_enabled;
DROP INDEX keys_by_expiry;
DROP INDEX keys_by_creator;
DROP INDEX keys_by_created;
DROP INDEX keys_by_last_used;
DROP INDEX keys_by_uses;
DROP INDEX keys_by_hint;
CREATE INDEX keys_by_name ON keys (name_sort, id);
CREATE INDEX keys_by_permissions ON keys (permissions, name_sort, id);
CREATE INDEX keys_by_enabled ON keys (enabled, name_sort, id);
CREATE INDEX keys_by_expiry ON keys (expires_sort, name_sort, id, revoked_at, enabled);
CREATE INDEX keys_by_creator ON keys (created_by, name_sort, id);
CREATE INDEX keys_by_created ON keys (created_at, name_sort, id);
CREATE INDEX keys_by_last_used ON keys (last_used_sort, name_sort, id);
CREATE INDEX keys_by_uses ON keys (use_count, name_sort, id);
CREATE INDEX keys_by_hint ON keys (hint, name_sort, id);
