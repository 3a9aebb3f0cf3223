-- The searches, which SQLite serves with FTS4 tables beside its own.
--
-- Keys: a query word anywhere in a key's name or creator is found by
-- LIKE '%word%', which trigram indexes serve (pg_trgm). Its public id is
-- found by prefix in its unique index.
--
-- Events: each query word starts a word of the event's actor, action,
-- target or bulk id. Those words are split as the store splits them, and
-- kept as the lexemes of a tsvector, which a prefix query (word:*) finds
-- through a GIN index. The store writes them with each event.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The operator class lives in the schema the extension was made in,
-- which need not be on the search path.
DO $$
DECLARE
    ops text;
BEGIN
    SELECT quote_ident(n.nspname) || '.gin_trgm_ops' INTO ops
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    EXECUTE 'CREATE INDEX keys_name_trigrams ON keys USING gin (name_fold ' || ops || ')';
    EXECUTE 'CREATE INDEX keys_creator_trigrams ON keys USING gin (created_by ' || ops || ')';
END
$$;

ALTER TABLE events ADD COLUMN terms tsvector NOT NULL DEFAULT '';
CREATE INDEX events_terms ON events USING gin (terms);
