-- A build between releases numbered 011 a migration that kept a key's
-- folded name only when it differed from the name ('' otherwise), with a
-- unique index on an expression; it was withdrawn, and 011 became the
-- events' target index. A database made by that build is at version 11
-- with both: give every key its folded name and the plain unique index
-- back, and the target index its one column. On any other database the
-- update finds nothing, and the indexes come back as they were.
UPDATE keys SET name_fold = name WHERE name_fold = '';
DROP INDEX keys_org_name;
CREATE UNIQUE INDEX keys_org_name ON keys (org_id, name_fold);
DROP INDEX IF EXISTS events_by_target;
CREATE INDEX events_by_target ON events (target_id);
