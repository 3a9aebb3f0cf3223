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
