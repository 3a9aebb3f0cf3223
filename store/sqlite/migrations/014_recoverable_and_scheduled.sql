-- Organization policy for secrets: keep new secrets encrypted so that they
-- can be shown again, the rotation schedule new keys start with, and the
-- grace period of a rotation. NULL numbers are not set here.
ALTER TABLE organizations ADD COLUMN recoverable_keys INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN rotate_every_days INTEGER;
ALTER TABLE organizations ADD COLUMN grace_days INTEGER;

-- Keys' rotation schedules, beside the keys rather than in their rows: few
-- keys have one, and a million rows would each grow. due_at is when the
-- next rotation is due, NULL once the key cannot be rotated; the scheduler
-- reads the due ones from its index.
CREATE TABLE key_schedules (
    key_id     INTEGER PRIMARY KEY REFERENCES keys (id) ON DELETE CASCADE,
    every_days INTEGER NOT NULL,
    due_at     INTEGER
);
CREATE INDEX key_schedules_due ON key_schedules (due_at) WHERE due_at IS NOT NULL;

-- Current secrets kept encrypted (AES-256-GCM, nonce first) under the
-- master key whose id sealed_by names: those of recoverable keys, and
-- those a scheduled rotation made that nobody has collected yet
-- (uncollected). The master key itself is never in the database.
CREATE TABLE kept_secrets (
    key_id      INTEGER PRIMARY KEY REFERENCES keys (id) ON DELETE CASCADE,
    sealed      BLOB NOT NULL,
    sealed_by   TEXT NOT NULL,
    uncollected INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX kept_secrets_by_master_key ON kept_secrets (sealed_by);

-- Administrators may show recoverable secrets again; Key managers and
-- Viewers may not, unless a role is given the right.
INSERT INTO role_rights (role_id, right_name) VALUES (1, 'apikeys.reveal');
