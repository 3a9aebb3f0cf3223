-- Every order but the name's breaks its ties by the key's id, the order the
-- keys were created in, rather than by name: the natural name took 15–20
-- bytes in each of eight indexes (160 MB of a database of a million keys),
-- the id none, since the rowid ends every index already. The expiry index
-- names id, for the columns after it, with which it tells a key's status.
DROP INDEX keys_by_permissions;
DROP INDEX keys_by_enabled;
DROP INDEX keys_by_expiry;
DROP INDEX keys_by_creator;
DROP INDEX keys_by_created;
DROP INDEX keys_by_last_used;
DROP INDEX keys_by_uses;
CREATE INDEX keys_by_permissions ON keys (permissions);
CREATE INDEX keys_by_enabled ON keys (enabled);
CREATE INDEX keys_by_expiry ON keys (expires_sort, id, revoked_at, enabled);
CREATE INDEX keys_by_creator ON keys (created_by);
CREATE INDEX keys_by_created ON keys (created_at);
CREATE INDEX keys_by_last_used ON keys (last_used_sort);
CREATE INDEX keys_by_uses ON keys (use_count);

-- The unique index of names in an organization lists an organization's
-- keys as well as this one did.
DROP INDEX keys_by_org;
