-- The background jobs: one row each, holding who runs it now (a claim
-- with an owner and a lease, so that several processes on one database
-- never run a job at once, and a claim whose owner died lapses), when it
-- is next due, and what its last run did. mark is the job's own progress:
-- the notices' window ends there, the webhooks' events cursor is there.
CREATE TABLE jobs (
    name          TEXT PRIMARY KEY,
    owner         TEXT,
    lease_until   INTEGER,
    next_run      INTEGER NOT NULL DEFAULT 0,
    last_started  INTEGER,
    last_finished INTEGER,
    last_summary  TEXT NOT NULL DEFAULT '',
    last_error    TEXT NOT NULL DEFAULT '',
    failures      INTEGER NOT NULL DEFAULT 0,
    runs          INTEGER NOT NULL DEFAULT 0,
    mark          INTEGER
);

-- Users may give an email address for notices, and opt out of each kind.
ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';
CREATE TABLE notice_optouts (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
) WITHOUT ROWID;

-- Notices: that a key expires in some days (or now, days 0), that its
-- scheduled rotation is due, that a rotated secret's grace ends, that it
-- was rotated. Each is raised at most once for what it warns of (due_for:
-- the expiry, rotation or grace end) and how many days ahead. A notice
-- names its key as it was, so that it outlives the key.
CREATE TABLE notices (
    id       INTEGER PRIMARY KEY,
    kind     TEXT NOT NULL,
    key_row  INTEGER NOT NULL,
    key_id   TEXT NOT NULL,
    key_name TEXT NOT NULL,
    org_id   INTEGER NOT NULL,
    due_for  INTEGER NOT NULL,
    days     INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    UNIQUE (key_row, kind, due_for, days)
);
CREATE INDEX notices_by_key ON notices (key_id, at);

-- The notices each user is to be mailed, gathered into one email per user
-- when they are sent. A claim (owner, lease_until) marks the ones being
-- sent; a claim whose sender died lapses, and they are sent again.
CREATE TABLE notice_mail (
    notice_id   INTEGER NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sent_at     INTEGER,
    failed_at   INTEGER,
    owner       TEXT,
    lease_until INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_try    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (notice_id, user_id)
) WITHOUT ROWID;
CREATE INDEX notice_mail_due ON notice_mail (next_try, user_id) WHERE sent_at IS NULL AND failed_at IS NULL;

-- The grace ends that notices warn of.
CREATE INDEX previous_secrets_by_grace ON previous_secrets (grace_until);
