-- Console settings that are not configuration: the session keys, and later
-- the console-wide switches. Values are opaque to SQL.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

-- Organizations form a tree later; today every key and user belongs to the root.
CREATE TABLE organizations (
    id        INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES organizations (id),
    name      TEXT NOT NULL
);
INSERT INTO organizations (id, name) VALUES (1, 'Default');

-- The permission catalog that keys draw from.
CREATE TABLE permissions (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO permissions (name, description) VALUES
    ('chat', 'Chat: start and continue chat conversations.'),
    ('securemail', 'Secure mail: send and read secure messages.');

CREATE TABLE roles (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    name_fold  TEXT NOT NULL UNIQUE,
    builtin    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE role_rights (
    role_id    INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    right_name TEXT NOT NULL,
    PRIMARY KEY (role_id, right_name)
) WITHOUT ROWID;

INSERT INTO roles (id, name, name_fold, builtin, created_at, updated_at) VALUES
    (1, 'Administrator', 'administrator', 1, unixepoch(), unixepoch()),
    (2, 'Key manager', 'key manager', 1, unixepoch(), unixepoch()),
    (3, 'Viewer', 'viewer', 1, unixepoch(), unixepoch());
INSERT INTO role_rights (role_id, right_name) VALUES
    (1, 'apikeys.view'), (1, 'apikeys.read'), (1, 'apikeys.create'), (1, 'apikeys.update'),
    (1, 'apikeys.delete'), (1, 'users.manage'), (1, 'audit.view'), (1, 'settings.manage'),
    (2, 'apikeys.view'), (2, 'apikeys.read'), (2, 'apikeys.create'), (2, 'apikeys.update'),
    (2, 'apikeys.delete'),
    (3, 'apikeys.view'), (3, 'apikeys.read');

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    username            TEXT NOT NULL UNIQUE,
    display_name        TEXT NOT NULL DEFAULT '',
    password_hash       TEXT NOT NULL,
    role_id             INTEGER NOT NULL REFERENCES roles (id),
    org_id              INTEGER NOT NULL DEFAULT 1 REFERENCES organizations (id),
    disabled_at         INTEGER,
    -- Bumped by logout, password change, role change and disabling, so that
    -- cookie sessions issued before can be refused.
    session_version     INTEGER NOT NULL DEFAULT 1,
    created_at          INTEGER NOT NULL,
    created_by          TEXT NOT NULL,
    updated_at          INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL
);
CREATE INDEX users_role ON users (role_id);

-- Times are Unix seconds, UTC. NULL means "never" (expiry) or "not yet".
-- Ids of keys, users, roles and events are AUTOINCREMENT: an id is never
-- given again, so nothing that refers to a deleted row (a session cookie,
-- counted usage, a cursor) can reach a new one.
CREATE TABLE keys (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id        TEXT NOT NULL UNIQUE,
    org_id           INTEGER NOT NULL DEFAULT 1 REFERENCES organizations (id),
    name             TEXT NOT NULL,
    name_fold        TEXT NOT NULL,
    -- Space-separated and sorted. Permissions never change after creation, so
    -- this copy of key_permissions cannot drift; it serves display and sorting.
    permissions      TEXT NOT NULL,
    secret_hash      BLOB NOT NULL UNIQUE,
    hint             TEXT NOT NULL,
    enabled          INTEGER NOT NULL,
    expires_at       INTEGER,
    capacity         INTEGER NOT NULL DEFAULT 120,
    frequency        INTEGER NOT NULL DEFAULT 60,
    created_at       INTEGER NOT NULL,
    created_by       TEXT NOT NULL,
    updated_at       INTEGER NOT NULL,
    updated_by       TEXT NOT NULL,
    enabled_at       INTEGER,
    enabled_by       TEXT,
    expiry_set_at    INTEGER,
    expiry_set_by    TEXT,
    revoked_at       INTEGER,
    revoked_by       TEXT,
    last_used_at     INTEGER,
    use_count        INTEGER NOT NULL DEFAULT 0,
    -- What the list sorts by: a key that never expires sorts after every
    -- date, one never used before every date. Plain columns (not
    -- expressions) so that keyset paging can seek in their indexes.
    expires_sort     INTEGER GENERATED ALWAYS AS (coalesce(expires_at, 9223372036854775807)) VIRTUAL,
    last_used_sort   INTEGER GENERATED ALWAYS AS (coalesce(last_used_at, 0)) VIRTUAL
);
CREATE UNIQUE INDEX keys_org_name ON keys (org_id, name_fold);
-- One index per sort order of the list; each ends with the tie-breakers that
-- keyset paging compares on.
CREATE INDEX keys_by_name ON keys (name_fold, id);
CREATE INDEX keys_by_permissions ON keys (permissions, name_fold, id);
CREATE INDEX keys_by_enabled ON keys (enabled, name_fold, id);
-- Status filters range over expires_sort; revoked_at and enabled ride along
-- so that counting by status reads this index alone.
CREATE INDEX keys_by_expiry ON keys (expires_sort, name_fold, id, revoked_at, enabled);
CREATE INDEX keys_by_creator ON keys (created_by, name_fold, id);
CREATE INDEX keys_by_created ON keys (created_at, name_fold, id);
CREATE INDEX keys_by_last_used ON keys (last_used_sort, name_fold, id);
CREATE INDEX keys_by_uses ON keys (use_count, name_fold, id);
CREATE INDEX keys_by_hint ON keys (hint, name_fold, id);
CREATE INDEX keys_revoked ON keys (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE key_permissions (
    key_id     INTEGER NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
    permission TEXT NOT NULL REFERENCES permissions (name),
    PRIMARY KEY (key_id, permission)
) WITHOUT ROWID;
CREATE INDEX key_permissions_by_permission ON key_permissions (permission, key_id);

-- Search index over name, creator and public id. The terms are every suffix of
-- every word, so that a prefix query finds any substring of a word
-- (FTS5's trigram tokenizer would need a build tag; FTS4 is compiled in).
-- docid is keys.id.
CREATE VIRTUAL TABLE key_search USING fts4 (terms, tokenize=simple);

-- The audit log. Rows are only ever inserted (and pruned by retention).
CREATE TABLE events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             INTEGER NOT NULL,
    actor_id       INTEGER,
    actor_username TEXT NOT NULL,
    action         TEXT NOT NULL,
    target_type    TEXT NOT NULL DEFAULT '',
    target_id      TEXT NOT NULL DEFAULT '',
    target_name    TEXT NOT NULL DEFAULT '',
    changes        TEXT NOT NULL DEFAULT '',
    details        TEXT NOT NULL DEFAULT '',
    bulk_id        TEXT NOT NULL DEFAULT '',
    client_addr    TEXT NOT NULL DEFAULT '',
    user_agent     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_by_target ON events (target_type, target_id, id);
CREATE INDEX events_by_at ON events (at);
