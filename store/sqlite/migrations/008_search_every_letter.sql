-- The key search index now holds every suffix of every word, down to one
-- letter and however far into a long word, so that it lists the candidates
-- of any search (store.searchTerms) and its count of a search of words of
-- two letters or more is exact. A prefix index of one letter lets a
-- one-letter search read its matches a few at a time instead of merging
-- every term that starts with the letter (most of the index, for "e").
-- Longer prefixes would do the same for two and three letters, at 5 MB per
-- 100,000 keys each; merging their terms costs a few milliseconds.
DROP TABLE key_search;
CREATE VIRTUAL TABLE key_search USING fts4 (terms, content=key_search_text, matchinfo=fts3, tokenize=simple, prefix="1");
INSERT INTO key_search (key_search) VALUES ('rebuild');

