-- Whether the audit log's times never go down as its ids go up. While they
-- do not, the events of a period are one range of ids, which two probes of
-- the index of times find; otherwise (a clock set back, jobs run as of a
-- day to come) the period's events are scanned for their ids. The trigger
-- turns it off for good at the first event older than the one before it.
CREATE TABLE event_order (
    in_order INTEGER NOT NULL
);

INSERT INTO event_order (in_order)
SELECT NOT EXISTS (SELECT 1 FROM (SELECT at, lag(at) OVER (ORDER BY id) AS before FROM events) WHERE at < before);

CREATE TRIGGER events_keep_order AFTER INSERT ON events
WHEN (SELECT in_order FROM event_order)
    AND NEW.at < (SELECT at FROM events WHERE id < NEW.id ORDER BY id DESC LIMIT 1)
BEGIN
    UPDATE event_order SET in_order = 0;
END;
