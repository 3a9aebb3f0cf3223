-- Search over the audit log: the actor, the action, the target (type, id,
-- name) and the bulk id, as words that a prefix query finds. docid is
-- events.id.
CREATE VIRTUAL TABLE event_search USING fts4 (terms, tokenize=simple);
INSERT INTO event_search (docid, terms)
    SELECT id, lower(actor_username || ' ' || replace(action, '.', ' ') || ' ' || target_type || ' ' || target_id || ' ' || target_name || ' ' || bulk_id)
    FROM events;

CREATE INDEX events_by_action ON events (action, id);
CREATE INDEX events_by_actor ON events (actor_username, id);
