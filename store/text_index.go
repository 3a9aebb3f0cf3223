package store

import (
	"context"
	"strings"
)

// textIndex keeps the searches' indexes up to date beside the tables, in
// the transaction that changes them: on SQLite the full-text indexes of
// keys and events (ftsIndex); on PostgreSQL nothing, since its trigram
// indexes follow the columns themselves (noTextIndex).
type textIndex interface {
	// addKey indexes a new key's name and creator.
	addKey(ctx context.Context, tx execer, row int64, name, creator string) error
	// renameKey indexes a key's new name; it runs before the row changes.
	renameKey(ctx context.Context, tx execer, row int64, name, creator string) error
	// dropKeys forgets the keys whose rows are in the list in, of the
	// values ids (see inList); it runs before the rows go.
	dropKeys(ctx context.Context, tx execer, in string, ids []any) error
	// addLastEvent indexes the event the transaction wrote last.
	addLastEvent(ctx context.Context, tx execer, e eventRecord, actor string) error
	// dropEvents forgets the events that batch (a query of their ids, with
	// args) lists; it runs before the events go.
	dropEvents(ctx context.Context, tx execer, batch string, args ...any) error
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

func (ftsIndex) addLastEvent(ctx context.Context, tx execer, e eventRecord, actor string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO event_search (docid, terms) VALUES (last_insert_rowid(), ?)`,
		eventTerms(actor, e.Action, e.TargetType, e.TargetID, e.TargetName, e.BulkID))
	return err
}

func (ftsIndex) dropEvents(ctx context.Context, tx execer, batch string, args ...any) error {
	// The index reads the words it drops from the events
	// (event_search_text).
	_, err := tx.ExecContext(ctx, `DELETE FROM event_search WHERE docid IN (`+batch+`)`, args...)
	return err
}

// noTextIndex is PostgreSQL's: nothing to keep beside the tables.
type noTextIndex struct{}

func (noTextIndex) addKey(context.Context, execer, int64, string, string) error     { return nil }
func (noTextIndex) renameKey(context.Context, execer, int64, string, string) error  { return nil }
func (noTextIndex) dropKeys(context.Context, execer, string, []any) error           { return nil }
func (noTextIndex) addLastEvent(context.Context, execer, eventRecord, string) error { return nil }
func (noTextIndex) dropEvents(context.Context, execer, string, ...any) error        { return nil }
