-- Whether the audit log's times never go down as its ids go up. While they
-- do not, the events of a period are one range of ids, which two probes of
-- the index of times find; otherwise (a clock set back, jobs run as of a
-- day to come) the period's events are scanned for their ids. Each write
-- turns it off for good if its events break that order (keepEventOrder).
CREATE TABLE event_order (
    in_order INTEGER NOT NULL
);

INSERT INTO event_order (in_order)
SELECT NOT EXISTS (SELECT 1 FROM (SELECT at, lag(at) OVER (ORDER BY id) AS before FROM events) WHERE at < before);
