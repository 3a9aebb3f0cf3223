package store

import (
	"context"
	"database/sql"
	"strings"
)

// textIndex is what the searches of keys and events read, kept up to date
// in the transaction that changes them: on SQLite the full-text indexes of
// keys and events (ftsIndex); on PostgreSQL each event's words, in its
// own row, as its trigram indexes follow the keys' columns (pgSearch).
type textIndex interface {
	// addKey indexes a new key's name and creator.
	addKey(ctx context.Context, tx execer, row int64, name, creator string) error
	// renameKey indexes a key's new name; it runs before the row changes.
	renameKey(ctx context.Context, tx execer, row int64, name, creator string) error
	// dropKeys forgets the keys whose rows are in the list in, of the
	// values ids (see inList); it runs before the rows go.
	dropKeys(ctx context.Context, tx execer, in string, ids []any) error
	// insertEvent writes an event (insertEventSQL's values are args) and
	// indexes its words, terms (see eventTerms).
	insertEvent(ctx context.Context, tx execer, args []any, terms string) error
	// dropEvents forgets the events that batch (a query of their ids, with
	// args) lists; it runs before the events go.
	dropEvents(ctx context.Context, tx execer, batch string, args ...any) error

	// addSeeded indexes the keys and events after the rows lastKey and
	// lastEvent, which a seed wrote, and adds words, the new ones among
	// the keys' words.
	addSeeded(ctx context.Context, tx *sql.Tx, lastKey, lastEvent int64, words []string) error

	// keyCandidates returns a query whose column id lists a superset of
	// the keys that the search for words matches (see searchPart), with
	// exact set when it lists exactly those; "" when the index cannot
	// tell, and the search's own condition finds them.
	keyCandidates(ctx context.Context, tx *sql.Tx, a *args, words []string) (driver string, exact bool, err error)

	// eventQuery is the value that eventsMatching binds, for the query
	// words of a search of the audit log: each starts a word of the event.
	eventQuery(words []string) string
	// eventsMatching is a query whose column id lists the events that
	// match the search bound to holder.
	eventsMatching(holder string) string
}

// ftsIndex is SQLite's: FTS4 tables whose text the views key_search_text
// and event_search_text compute from the rows (see search.go).
type ftsIndex struct{}

func (ftsIndex) addKey(ctx context.Context, tx execer, row int64, name, creator string) error {
	words := keyWords(name, creator)
	if _, err := tx.ExecContext(ctx, `INSERT INTO key_search (docid, terms) VALUES (?, ?)`, row, words); err != nil {
		return err
	}
	return addWords(ctx, tx, strings.Fields(words))
}

func (ftsIndex) renameKey(ctx context.Context, tx execer, row int64, name, creator string) error {
	// Before the row changes: the index reads the words it drops from
	// the row (key_search_text).
	words := keyWords(name, creator)
	if _, err := tx.ExecContext(ctx, `UPDATE key_search SET terms = ? WHERE docid = ?`, words, row); err != nil {
		return err
	}
	return addWords(ctx, tx, strings.Fields(words))
}

func (ftsIndex) dropKeys(ctx context.Context, tx execer, in string, ids []any) error {
	// The index reads the words it drops from the rows.
	_, err := tx.ExecContext(ctx, `DELETE FROM key_search WHERE docid IN `+in, ids...)
	return err
}

func (ftsIndex) insertEvent(ctx context.Context, tx execer, args []any, terms string) error {
	// Written, not queried: in a bulk action a statement that returns the
	// new id (RETURNING) took three times as long.
	if _, err := tx.ExecContext(ctx, insertEventSQL(), args...); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO event_search (docid, terms) VALUES (last_insert_rowid(), ?)`, terms)
	return err
}

func (ftsIndex) dropEvents(ctx context.Context, tx execer, batch string, args ...any) error {
	// The index reads the words it drops from the events
	// (event_search_text).
	_, err := tx.ExecContext(ctx, `DELETE FROM event_search WHERE docid IN (`+batch+`)`, args...)
	return err
}

func (ftsIndex) addSeeded(ctx context.Context, tx *sql.Tx, lastKey, lastEvent int64, words []string) error {
	// The views compute each row's search text as the indexes will read it back.
	if _, err := tx.ExecContext(ctx, `INSERT INTO key_search (docid, terms) SELECT rowid, terms FROM key_search_text WHERE rowid > ?`, lastKey); err != nil {
		return err
	}
	if err := addWords(ctx, tx, words); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO event_search (docid, terms) SELECT rowid, terms FROM event_search_text WHERE rowid > ?`, lastEvent)
	return err
}

// keyCandidates lists the keys that have, for each query word, one of
// the words that contain it (see search.go), and the keys whose public id
// starts with a query word; they are exactly the matches for a search of
// one word. A query word found in too many words is left to LIKE; when
// every one is, the search lists no candidates.
func (ftsIndex) keyCandidates(ctx context.Context, tx *sql.Tx, a *args, words []string) (string, bool, error) {
	var (
		inWord []string // each query word that word_search lists, in the name or creator
		groups []string // the words that contain each of those, ORed
		ids    []string // each query word that can start a public id, as a range of its index
		empty  bool     // a query word is in no word
	)
	for _, w := range words {
		found, listed, err := wordsContaining(ctx, tx, w)
		if err != nil {
			return "", false, err
		}
		if listed {
			inWord = append(inWord, "("+wordCond(a, w)+")")
			groups = append(groups, "("+strings.Join(found, " OR ")+")")
			empty = empty || len(found) == 0
		}
		if idPrefix(w) {
			// Ids are lowercase letters and digits: "{" follows them all.
			ids = append(ids, "(k.public_id >= "+a.add(w)+" AND k.public_id < "+a.add(w+"{")+")")
		}
	}
	if len(groups) == 0 {
		return "", false, nil // every query word is in too many words to list
	}
	// A key that matches has every listed query word in its words, or one
	// of them starting its id.
	var selects []string
	if !empty {
		selects = append(selects, "SELECT docid AS id FROM key_search WHERE key_search MATCH "+a.add(strings.Join(groups, " ")))
	}
	if len(ids) > 0 {
		// Those the words did not list.
		selects = append(selects, "SELECT k.id AS id FROM keys k WHERE ("+strings.Join(ids, " OR ")+") AND NOT ("+strings.Join(inWord, " AND ")+")")
	}
	if len(selects) == 0 {
		selects = []string{"SELECT 0 AS id WHERE FALSE"} // a word of one letter that no word has
	}
	return strings.Join(selects, " UNION ALL "), len(words) == 1 && len(inWord) == 1, nil
}

// eventQuery asks FTS4 for words that start with each query word.
func (ftsIndex) eventQuery(words []string) string {
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = w + "*" // letters and digits only: no FTS syntax
	}
	return strings.Join(terms, " ")
}

func (ftsIndex) eventsMatching(holder string) string {
	return "SELECT docid AS id FROM event_search WHERE event_search MATCH " + holder
}

// pgSearch is PostgreSQL's: the keys' trigram indexes follow their
// columns, and each event keeps its words in its column terms, a tsvector
// whose lexemes are exactly those words (see migration 002).
type pgSearch struct{}

func (pgSearch) addKey(context.Context, execer, int64, string, string) error    { return nil }
func (pgSearch) renameKey(context.Context, execer, int64, string, string) error { return nil }
func (pgSearch) dropKeys(context.Context, execer, string, []any) error          { return nil }
func (pgSearch) dropEvents(context.Context, execer, string, ...any) error       { return nil }

// eventLexemes makes the tsvector of terms, words split by spaces, as
// they are: no parser or dictionary changes them.
func eventLexemes(terms string) string {
	return "array_to_tsvector(string_to_array(" + terms + ", ' '))"
}

func (pgSearch) insertEvent(ctx context.Context, tx execer, args []any, terms string) error {
	_, err := tx.ExecContext(ctx, insertEventSQL([2]string{"terms", eventLexemes("?")}), append(args, terms)...)
	return err
}

// addSeeded gives the seeded events their words, a batch of events at a
// time, computed as for any other event.
func (pgSearch) addSeeded(ctx context.Context, tx *sql.Tx, _, lastEvent int64, _ []string) error {
	for after := lastEvent; ; {
		type seeded struct {
			id    int64
			terms string
		}
		batch, err := allRows(ctx, tx, func(r rowScanner) (seeded, error) {
			var e seeded
			var actor, action, targetType, targetID, targetName, bulkID string
			err := r.Scan(&e.id, &actor, &action, &targetType, &targetID, &targetName, &bulkID)
			e.terms = eventTerms(actor, action, targetType, targetID, targetName, bulkID)
			return e, err
		}, `SELECT id, actor_username, action, target_type, target_id, target_name, bulk_id FROM events WHERE id > ? ORDER BY id LIMIT 10000`, after)
		if err != nil || len(batch) == 0 {
			return err
		}
		ids, terms := make([]int64, len(batch)), make([]string, len(batch))
		for i, e := range batch {
			ids[i], terms[i] = e.id, e.terms
		}
		if _, err := tx.ExecContext(ctx, `UPDATE events e SET terms = `+eventLexemes("v.terms")+`
			FROM unnest(CAST(? AS bigint[]), CAST(? AS text[])) AS v (id, terms) WHERE e.id = v.id`, ids, terms); err != nil {
			return err
		}
		after = ids[len(ids)-1]
	}
}

// keyCandidates lists none: the search's LIKE conditions use the
// trigram indexes of the columns they test.
func (pgSearch) keyCandidates(context.Context, *sql.Tx, *args, []string) (string, bool, error) {
	return "", false, nil
}

// eventQuery asks for lexemes that start with each query word: quoted,
// though they hold only letters and digits.
func (pgSearch) eventQuery(words []string) string {
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = "'" + w + "':*"
	}
	return strings.Join(terms, " & ")
}

func (pgSearch) eventsMatching(holder string) string {
	return "SELECT id FROM events WHERE terms @@ CAST(" + holder + " AS tsquery)"
}
