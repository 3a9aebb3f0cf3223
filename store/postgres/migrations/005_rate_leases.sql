-- An instance reserves several of a key's verifications at once (a
-- lease) and spends them from memory, so that a busy key does not queue
-- every verification of every instance on its one row. The bucket is the
-- same: reserving n moves its time on by n steps, as n verifications
-- would. Reservations left unspent when a lease ends come back with the
-- instance's next reservation (returned), which moves the time back.
--
-- keydesk_lease_rate reserves up to wanted verifications of the key at
-- at_time (Unix nanoseconds) from a bucket of burst nanoseconds that
-- gives one back every step, and returns the bucket's time after and how
-- many it granted: none when the bucket is empty.
CREATE FUNCTION keydesk_lease_rate(key bigint, at_time bigint, step bigint, burst bigint, wanted bigint, returned bigint,
    OUT new_tat bigint, OUT granted bigint) LANGUAGE plpgsql AS $$
DECLARE
    base bigint;
BEGIN
    SELECT r.tat INTO base FROM rate_limits r WHERE r.key_id = key FOR UPDATE;
    IF NOT FOUND THEN
        -- A bucket not used yet is full.
        INSERT INTO rate_limits (key_id, tat) VALUES (key, at_time) ON CONFLICT (key_id) DO NOTHING;
        SELECT r.tat INTO base FROM rate_limits r WHERE r.key_id = key FOR UPDATE;
    END IF;
    base := GREATEST(base - returned * step, at_time);
    granted := LEAST(wanted, GREATEST((burst - (base - at_time)) / step, 0));
    new_tat := base + granted * step;
    UPDATE rate_limits r SET tat = new_tat WHERE r.key_id = key;
END
$$;
