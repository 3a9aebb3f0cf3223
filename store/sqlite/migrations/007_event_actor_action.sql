-- The audit log filtered by actor and action together walks the events of
-- both, newest first, instead of every event of one to find the other.
-- (The rowid ends the index: it is the order of the log.)
CREATE INDEX events_by_actor_action ON events (actor_username, action);
