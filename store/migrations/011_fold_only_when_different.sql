-- A key's folded name is kept only when it differs from its name (most
-- names are lowercase already): '' stands for the name itself, and the
-- unique index of names in an organization reads the one or the other
-- (store.foldedNameSQL). 20 bytes a key, 20 MB at a million keys.
DROP INDEX keys_org_name;
UPDATE keys SET name_fold = '' WHERE name_fold = name;
CREATE UNIQUE INDEX keys_org_name ON keys (org_id, coalesce(nullif(name_fold, ''), name));
