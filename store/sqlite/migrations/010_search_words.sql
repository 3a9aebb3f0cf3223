-- The key search index holds each key's words instead of every suffix of
-- them (store/search.go): the suffixes go to an index of their own, of
-- each distinct word once, which a million keys share a few thousand of.
-- At a million keys the search indexes shrink from 142 MB to about 20.
-- The public id leaves the index: its unique index finds the start of one.
DROP TABLE key_search;
DROP VIEW key_search_text;
CREATE VIEW key_search_text (rowid, terms) AS
    SELECT id, keydesk_key_words(name, created_by) FROM keys;
CREATE VIRTUAL TABLE key_search USING fts4 (terms, content=key_search_text, matchinfo=fts3, tokenize=simple);
INSERT INTO key_search (key_search) VALUES ('rebuild');

-- Every word a key's name or creator has had, once: words are not taken
-- out when the last key that had one goes.
CREATE TABLE search_words (
    id   INTEGER PRIMARY KEY,
    word TEXT NOT NULL UNIQUE
);
-- Each word's suffixes; no row is ever taken out, so it keeps no text.
CREATE VIRTUAL TABLE word_search USING fts4 (terms, content="", matchinfo=fts3, tokenize=simple);
INSERT OR IGNORE INTO search_words (word)
    SELECT j.value FROM key_search_text t, json_each('["' || replace(t.terms, ' ', '","') || '"]') j
    WHERE t.terms != '';
INSERT INTO word_search (docid, terms) SELECT id, keydesk_word_suffixes(word) FROM search_words;
