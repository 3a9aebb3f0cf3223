-- Organization policy for secrets: keep new secrets encrypted so that they
-- can be shown again, the rotation schedule new keys start with, and the
-- grace period of a rotation. NULL numbers are not set here.
ALTER TABLE organizations ADD COLUMN recoverable_keys INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN rotate_every_days INTEGER;
ALTER TABLE organizations ADD COLUMN grace_days INTEGER;

-- A key's rotation schedule, and when it is next due: set while the key
-- has a schedule and can still be rotated, so that the job reads the due
-- keys from one small index.
ALTER TABLE keys ADD COLUMN rotate_every_days INTEGER;
ALTER TABLE keys ADD COLUMN rotate_due_at INTEGER;
CREATE INDEX keys_rotate_due ON keys (rotate_due_at) WHERE rotate_due_at IS NOT NULL;

-- The current secret, encrypted (AES-256-GCM, nonce first) under the
-- master key whose id sealed_by names, for recoverable keys and for
-- secrets a scheduled rotation made that nobody has collected yet.
ALTER TABLE keys ADD COLUMN sealed_secret BLOB;
ALTER TABLE keys ADD COLUMN sealed_by TEXT;
ALTER TABLE keys ADD COLUMN secret_uncollected INTEGER NOT NULL DEFAULT 0;
-- The few kept secrets, by master key: what the server checks at start and
-- `keydesk rekey` moves.
CREATE INDEX keys_sealed ON keys (sealed_by) WHERE sealed_by IS NOT NULL;

-- Administrators may show recoverable secrets again; Key managers and
-- Viewers may not, unless a role is given the right.
INSERT INTO role_rights (role_id, right_name) VALUES (1, 'apikeys.reveal');
