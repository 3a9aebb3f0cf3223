-- Organizations become a tree that keys, users and events belong to.
-- public_id is what URLs, the API and the CLI use; path is the chain of row
-- ids from the root ("/1/7/12/"), so that a subtree is one range of an
-- index. Policy columns: NULL means no limit; the effective policy of an
-- organization is the strictest along its path.
ALTER TABLE organizations ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN name_fold TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN path TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN api_keys_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE organizations ADD COLUMN max_expiry_days INTEGER;
ALTER TABLE organizations ADD COLUMN max_keys_per_user INTEGER;

-- Before this, the root was the only organization.
UPDATE organizations SET public_id = keydesk_public_id(), name_fold = lower(name), path = '/' || id || '/',
    created_at = CAST(strftime('%s', 'now') AS INTEGER), updated_at = CAST(strftime('%s', 'now') AS INTEGER);

CREATE UNIQUE INDEX organizations_by_public_id ON organizations (public_id);
CREATE UNIQUE INDEX organizations_by_path ON organizations (path);
CREATE UNIQUE INDEX organizations_by_parent_name ON organizations (parent_id, name_fold);
-- The few organizations with API keys off, which verification asks about.
CREATE INDEX organizations_keys_off ON organizations (path) WHERE api_keys_enabled = 0;
CREATE INDEX keys_by_org ON keys (org_id, name_sort, id);
CREATE INDEX users_by_org ON users (org_id);

-- Administrators manage organizations.
INSERT INTO role_rights (role_id, right_name) VALUES (1, 'orgs.manage');

-- Events record the organization of what they are about, for the log of a
-- subtree; events from before belong to the root.
ALTER TABLE events ADD COLUMN org_id INTEGER NOT NULL DEFAULT 1;
CREATE INDEX events_by_org ON events (org_id, id);
