-- Every change that verification caches hears of is announced on the
-- channel keydesk, in the transaction that makes it: the announcement
-- reaches the instances listening when, and only if, the change commits.
-- A channel serves the whole database: each announcement starts with the
-- schema of the table that changed, and an instance hears only its own.
--
--   key N      the key with row id N changed (its secret, name,
--              permissions, expiry, switch, revocation, rate limit or
--              organization), or one of its previous secrets did
--   deleted N  the key with row id N is gone
--   orgs       organizations changed: keys carry their organization's
--              path and switch, so every key is read anew
--
-- Counting uses (use_count, last_used_at and the like) announces nothing.

CREATE FUNCTION keydesk_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('keydesk', TG_TABLE_SCHEMA || ' deleted ' || OLD.id);
    ELSE
        PERFORM pg_notify('keydesk', TG_TABLE_SCHEMA || ' key ' || NEW.id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER keys_announce AFTER DELETE
    OR UPDATE OF secret_hash, name, permissions, expires_at, enabled, revoked_at, capacity, frequency, org_id
    ON keys FOR EACH ROW EXECUTE FUNCTION keydesk_key_changed();

CREATE FUNCTION keydesk_previous_secret_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pg_notify('keydesk', TG_TABLE_SCHEMA || ' key ' || NEW.key_id);
    ELSE
        PERFORM pg_notify('keydesk', TG_TABLE_SCHEMA || ' key ' || OLD.key_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER previous_secrets_announce AFTER INSERT OR UPDATE OR DELETE
    ON previous_secrets FOR EACH ROW EXECUTE FUNCTION keydesk_previous_secret_changed();

CREATE FUNCTION keydesk_orgs_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('keydesk', TG_TABLE_SCHEMA || ' orgs');
    RETURN NULL;
END
$$;

CREATE TRIGGER organizations_announce AFTER INSERT OR UPDATE OR DELETE
    ON organizations FOR EACH STATEMENT EXECUTE FUNCTION keydesk_orgs_changed();
