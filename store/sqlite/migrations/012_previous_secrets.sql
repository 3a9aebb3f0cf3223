-- A key's current secret stays in its row, where verification finds it.
-- Rotating the key moves that secret here, valid until its grace ends;
-- the key's page lists them, ended or not, the last few.
CREATE TABLE previous_secrets (
    secret_hash BLOB PRIMARY KEY,
    key_id      INTEGER NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
    hint        TEXT NOT NULL,
    since       INTEGER NOT NULL, -- when it became the key's secret
    replaced_at INTEGER NOT NULL, -- when a rotation replaced it
    grace_until INTEGER NOT NULL  -- it verifies before this time
) WITHOUT ROWID;
CREATE INDEX previous_secrets_by_key ON previous_secrets (key_id, replaced_at);

-- When the current secret became the key's: NULL until the first rotation,
-- when it is the key's creation.
ALTER TABLE keys ADD COLUMN rotated_at INTEGER;
