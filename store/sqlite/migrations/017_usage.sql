-- Verifications counted by key, hour and outcome, kept 14 days, and by
-- key, day and outcome, kept 400 days. outcome is an index into the
-- store's list of outcomes, which only grows. A key's id is never given
-- again, so the rows of a deleted key are pruned later rather than
-- deleted with it (which would slow bulk deletion down).
CREATE TABLE key_usage_hourly (
    key_id  INTEGER NOT NULL,
    hour    INTEGER NOT NULL, -- Unix seconds at the start of the hour (UTC)
    outcome INTEGER NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (key_id, hour, outcome)
) WITHOUT ROWID;
CREATE INDEX key_usage_hourly_by_hour ON key_usage_hourly (hour);
CREATE TABLE key_usage_daily (
    key_id  INTEGER NOT NULL,
    day     INTEGER NOT NULL, -- Unix seconds at the start of the day (UTC)
    outcome INTEGER NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (key_id, day, outcome)
) WITHOUT ROWID;
CREATE INDEX key_usage_daily_by_day ON key_usage_daily (day);

-- Refusals that name no key (not found, malformed), counted by the
-- organization the request asked about (the root when it named none).
CREATE TABLE org_refusals_hourly (
    org_id  INTEGER NOT NULL,
    hour    INTEGER NOT NULL,
    outcome INTEGER NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (org_id, hour, outcome)
) WITHOUT ROWID;
CREATE TABLE org_refusals_daily (
    org_id  INTEGER NOT NULL,
    day     INTEGER NOT NULL,
    outcome INTEGER NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (org_id, day, outcome)
) WITHOUT ROWID;

-- Usage spikes: a key verified far more than usual in an hour, or an
-- organization's refusals of no key far above theirs. One is raised per
-- key or organization (subject "key:ROW" or "org:ROW") per day.
CREATE TABLE usage_spikes (
    subject TEXT NOT NULL,
    day     INTEGER NOT NULL,
    hour    INTEGER NOT NULL,
    count   INTEGER NOT NULL, -- in the hour
    usual   INTEGER NOT NULL, -- in an hour, on average over the week before
    PRIMARY KEY (subject, day)
) WITHOUT ROWID;
-- A spike's notice names its figures.
ALTER TABLE notices ADD COLUMN figure INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notices ADD COLUMN usual INTEGER NOT NULL DEFAULT 0;
-- Organization policy: how far above its usual hourly use (a multiple)
-- and above what floor a key's hour is a spike; NULL: as above, else the
-- defaults (10 and 1,000).
ALTER TABLE organizations ADD COLUMN spike_multiple INTEGER;
ALTER TABLE organizations ADD COLUMN spike_floor INTEGER;

-- Each key's valid verifications over the last 24 hours, for the key
-- list's Usage column and its sort: the usage flush adds to it, and a job
-- takes off each hour as it leaves the window.
ALTER TABLE keys ADD COLUMN uses_24h INTEGER NOT NULL DEFAULT 0;
CREATE INDEX keys_by_uses_24h ON keys (uses_24h);
