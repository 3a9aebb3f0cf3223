-- Keys' permissions name the permission by its row rather than by its
-- name: at a million keys, key_permissions and its index held 1.4 million
-- names each, 50 MB of the file.
CREATE TABLE permissions_by_row (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL
);
INSERT INTO permissions_by_row (name, description) SELECT name, description FROM permissions ORDER BY name;

CREATE TABLE key_permissions_by_row (
    key_id        INTEGER NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
    permission_id INTEGER NOT NULL REFERENCES permissions_by_row (id),
    PRIMARY KEY (key_id, permission_id)
) WITHOUT ROWID;
INSERT INTO key_permissions_by_row (key_id, permission_id)
SELECT kp.key_id, p.id FROM key_permissions kp JOIN permissions_by_row p ON p.name = kp.permission
ORDER BY kp.key_id, p.id;

DROP TABLE key_permissions;
DROP TABLE permissions;
ALTER TABLE permissions_by_row RENAME TO permissions;
ALTER TABLE key_permissions_by_row RENAME TO key_permissions;
CREATE INDEX key_permissions_by_permission ON key_permissions (permission_id, key_id);
