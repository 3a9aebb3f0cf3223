-- Personal access tokens for the management API: a user's, with a name,
-- an expiry, a subset of the user's rights and optionally a part of the
-- user's organizations. Only the token's SHA-256 is kept. A user deleted
-- takes their tokens; ids are never given again.
CREATE TABLE access_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id    TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    hint         TEXT NOT NULL,
    rights       TEXT NOT NULL, -- separated by spaces
    org_id       INTEGER REFERENCES organizations (id) ON DELETE CASCADE, -- NULL: the user's own
    expires_at   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX access_tokens_by_user ON access_tokens (user_id);

-- The answers of the management API's POSTs sent with an Idempotency-Key,
-- for 24 hours: the same token, key and body get the first answer again.
-- An answer may hold a new key's secret, so it is sealed with the master
-- key, bound to the token and the key.
CREATE TABLE idempotent_answers (
    token_id   INTEGER NOT NULL REFERENCES access_tokens (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    body_hash  BLOB NOT NULL,
    status     INTEGER NOT NULL,
    sealed     BLOB NOT NULL,
    sealed_by  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (token_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotent_answers_by_time ON idempotent_answers (created_at);
