-- Webhooks, calendar feeds, and the organization policy of notice days
-- and key retention.

-- Webhooks: an organization's URL that gets the events of the types it
-- chose, of the organization and below, signed with its secret. The
-- secret is sealed with the master key (bound to the webhook's public id),
-- since every delivery needs it.
CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY,
    public_id  TEXT NOT NULL UNIQUE,
    org_id     INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    events     TEXT NOT NULL, -- the types it wants, separated by spaces
    sealed     BLOB NOT NULL,
    sealed_by  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
);

-- One message to a webhook, with its body as first made: sent until the
-- receiver answers 2xx, tried again on the notices' schedule, and marked
-- failed after the last try. A claim (owner, lease_until) marks one being
-- sent; a claim whose sender died lapses.
CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY,
    msg_id      TEXT NOT NULL UNIQUE,
    webhook_id  INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    state       TEXT NOT NULL DEFAULT 'waiting', -- waiting, delivered, failed
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_try    INTEGER NOT NULL,
    owner       TEXT,
    lease_until INTEGER,
    last_try    INTEGER,
    last_status INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_try) WHERE state = 'waiting';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);

-- Each user's private calendar feed of their keys' expiry and rotation
-- dates: the SHA-256 of the token in its address, which is shown once.
CREATE TABLE calendar_feeds (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

-- Organization policy: delete keys this many days after they expired or
-- were revoked (NULL: keep them); the days before expiry that notices go
-- out ('' : the default, 30,14,7,3,1).
ALTER TABLE organizations ADD COLUMN delete_after_days INTEGER;
ALTER TABLE organizations ADD COLUMN notice_days TEXT NOT NULL DEFAULT '';
