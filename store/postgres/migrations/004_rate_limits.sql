-- Every instance spends a key's verifications from one bucket: GCRA, the
-- bucket kept as one time (tat, Unix nanoseconds), moved on atomically by
-- each verification that passes. The table is unlogged: a crash of the
-- server empties it, which gives every key its whole allowance again,
-- and saves a write to the log for every verification.
CREATE UNLOGGED TABLE rate_limits (
    key_id bigint PRIMARY KEY,
    tat    bigint NOT NULL
);

-- A deleted key's bucket goes with it; a new rate limit starts full, as
-- it does in the memory of a SQLite server.
CREATE OR REPLACE FUNCTION keydesk_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM rate_limits WHERE key_id = OLD.id;
        PERFORM pg_notify('keydesk', TG_TABLE_SCHEMA || ' deleted ' || OLD.id);
    ELSE
        IF (NEW.capacity, NEW.frequency) IS DISTINCT FROM (OLD.capacity, OLD.frequency) THEN
            DELETE FROM rate_limits WHERE key_id = NEW.id;
        END IF;
        PERFORM pg_notify('keydesk', TG_TABLE_SCHEMA || ' key ' || NEW.id);
    END IF;
    RETURN NULL;
END
$$;
