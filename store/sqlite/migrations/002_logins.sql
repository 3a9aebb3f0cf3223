-- Failed logins of the last hour, for throttling by username and by client
-- address. Successful logins clear a username's failures.
CREATE TABLE login_failures (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    username    TEXT NOT NULL,
    client_addr TEXT NOT NULL
);
CREATE INDEX login_failures_by_username ON login_failures (username, at);
CREATE INDEX login_failures_by_addr ON login_failures (client_addr, at);

ALTER TABLE users ADD COLUMN last_login_at INTEGER;
-- Set while a user still has the password that first-start set-up printed.
ALTER TABLE users ADD COLUMN first_password INTEGER NOT NULL DEFAULT 0;
