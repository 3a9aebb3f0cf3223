// Package store keeps Keydesk's data: keys, users, roles, the
// permission catalog and the audit log, in the database of an engine:
// store/sqlite (a file, the default) or store/postgres (a postgres:// URL,
// which several instances share). It knows nothing of HTTP.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/keydesk/keydesk/store/postgres"
	"github.com/keydesk/keydesk/store/sqlite"
)

// DriverName is SQLite with Keydesk's functions on every connection:
// migrations use them to fill in derived columns, and the search indexes
// read their text through views that call them. A tool that opens the file
// itself uses it too: without the functions, reading that text fails, and
// PRAGMA integrity_check says it cannot check the search indexes.
const DriverName = "sqlite3_keydesk"

func init() {
	sqlite.Register(DriverName,
		sqlite.Func{Name: "keydesk_sort_name", Impl: sortName, Pure: true},
		sqlite.Func{Name: "keydesk_public_id", Impl: newPublicID},
		sqlite.Func{Name: "keydesk_key_words", Impl: keyWords, Pure: true},
		sqlite.Func{Name: "keydesk_key_terms", Impl: keyWordsOld, Pure: true},
		sqlite.Func{Name: "keydesk_word_suffixes", Impl: wordSuffixes, Pure: true},
		sqlite.Func{Name: "keydesk_event_terms", Impl: eventTerms, Pure: true},
	)
}

// Store is the database. Writes go through the engine's writer, reads
// through its pool of readers (see engine).
type Store struct {
	db     engine
	text   textIndex
	writer *sql.DB
	reader *sql.DB

	// Verification reads keys through a cache, and prepared lookups: by
	// the current secret, then by a previous one.
	cache              *keyCache
	orgs               orgCache
	verifyStmt         *sql.Stmt
	verifyPreviousStmt *sql.Stmt
	// master is the master key of the kept secrets; see SetMasterKey.
	master func() (*MasterKey, error)
	// reveals limits how often each user may reveal secrets.
	reveals revealLimits
	// changes notices writes by other processes; see ReloadIfChanged.
	changes dataVersion
	// writes counts the writes committed here, and those of other
	// processes seen by ReloadIfChanged: what is read from it stays true
	// while it stays the same.
	writes atomic.Uint64
	// refusals counts the verifications that found no key; see usage.go.
	refusals refusals
	// tokenUses are the access tokens used since the last FlushUsage.
	tokenUses tokenUses
	// soon keeps the keys about to expire, per scope; see ExpiringSoon.
	soon soonCache

	// hashing bounds the password checks that run at once.
	hashing chan struct{}
	// guard serialises password checks per client address (login.go).
	guard passwordGuard

	// Now is the clock; tests replace it.
	Now func() time.Time
	// StaleFor is how long after PostgreSQL's change feed went down a key
	// cached before keeps verifying when the database cannot be read; the
	// answer then says how old it may be (Verification.Stale). Zero
	// refuses at once.
	StaleFor time.Duration
}

// Open opens the database at path, a SQLite file (created if needed) or a
// postgres:// URL, and applies any migration it has not seen yet.
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, true)
}

// OpenExisting opens the database at path like Open, but never creates a
// file: for the commands other than serve, where a mistyped --db should
// say so rather than make an empty database.
func OpenExisting(ctx context.Context, path string) (*Store, error) {
	if IsPostgres(path) {
		return open(ctx, path, false)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("there is no database at %s: check --db (or KEYDESK_DB); keydesk serve creates one", path)
	}
	return open(ctx, path, false)
}

func open(ctx context.Context, path string, create bool) (*Store, error) {
	db, text, err := openEngine(ctx, path, create)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, text: text, Now: time.Now, StaleFor: DefaultStaleFor, hashing: make(chan struct{}, 4)}
	s.writer, s.reader = db.Pools()
	s.cache = newKeyCache()
	s.orgs.load = s.loadOrgIndex
	if s.verifyStmt, err = s.reader.PrepareContext(ctx, verifyLookup); err != nil {
		s.Close()
		return nil, err
	}
	if s.verifyPreviousStmt, err = s.reader.PrepareContext(ctx, verifyPreviousLookup); err != nil {
		s.Close()
		return nil, err
	}
	if _, err := s.ReloadIfChanged(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if pg, ok := db.(*postgres.DB); ok {
		// Other instances' changes, and this one's, as they commit.
		pg.Listen(func(c postgres.Change) { s.forget(c.Keys, c.Deleted, c.All) })
	}
	return s, nil
}

// Path is the database file's path.
func (s *Store) Path() string { return s.db.Name() }

// Close writes the usage counted since the last flush, so that a clean
// shutdown loses none, and closes both pools.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stmtErr error
	for _, st := range []*sql.Stmt{s.verifyStmt, s.verifyPreviousStmt} {
		if st != nil {
			stmtErr = errors.Join(stmtErr, st.Close())
		}
	}
	err := errors.Join(s.FlushUsage(ctx), stmtErr, s.db.Close())
	return err
}

// write runs fn in a write transaction. The transaction is committed when fn
// returns nil and rolled back otherwise. now is the transaction's one time:
// every time the change writes, and the event that records it, use it.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx, now time.Time) error) error {
	return s.writeOn(ctx, s.writer, fn)
}

// beginner is the writer, or its connection held.
type beginner interface {
	BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
}

// writeOn is write on db. Each write keeps the audit log's record of
// whether its times go up with its ids (keepEventOrder).
func (s *Store) writeOn(ctx context.Context, db beginner, fn func(tx *sql.Tx, now time.Time) error) error {
	return s.transact(ctx, db, func(tx *sql.Tx, now time.Time) error {
		mark, err := markEvents(ctx, tx)
		if err != nil {
			return err
		}
		if err := fn(tx, now); err != nil {
			return err
		}
		return keepEventOrder(ctx, tx, mark)
	})
}

// transact runs fn in a transaction on db, committed when fn returns nil:
// a write, or a migration, which runs before the tables that writes keep
// up to date exist.
func (s *Store) transact(ctx context.Context, db beginner, fn func(tx *sql.Tx, now time.Time) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.db.LockWrites(ctx, tx); err != nil {
		return err
	}
	if err := fn(tx, s.now()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.writes.Add(1)
	return nil
}

// Page caches of the writer for work on most of a table: seeding, and
// bulk actions.
const (
	seedCacheKiB = 1 << 20   // 1 GiB
	bulkCacheKiB = 512 << 10 // 512 MiB
)

// read runs fn in a read transaction on the reader pool, so that the queries
// inside it see one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: s.db.ReadIsolation()})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// now is the store's clock truncated to whole seconds, the precision of
// every stored time.
func (s *Store) now() time.Time {
	return s.Now().UTC().Truncate(time.Second)
}

// Backup writes a consistent copy of the database to path while the console
// keeps serving.
func (s *Store) Backup(ctx context.Context, path string) error {
	if _, ok := s.db.(*postgres.DB); ok {
		return errors.New("a PostgreSQL database is backed up with PostgreSQL's own tools (pg_dump), which see every instance's writes")
	}
	_, err := s.reader.ExecContext(ctx, "VACUUM INTO ?", path)
	return err
}

// unix turns a time into a column value: NULL for the zero time.
func unix(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.Unix(), Valid: true}
}

// fromUnix is the inverse of unix.
func fromUnix(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.Unix(v.Int64, 0).UTC()
}

// readValue runs fn in a read transaction and returns what it read.
func readValue[T any](ctx context.Context, s *Store, fn func(tx *sql.Tx) (T, error)) (T, error) {
	var v T
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	return v, err
}

// eachRow runs a query in tx and calls fn with each row scanned by scan.
func eachRow[T any](ctx context.Context, tx *sql.Tx, scan func(rowScanner) (T, error), fn func(T) error, query string, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return rows.Err()
}

// scanID reads a row of one integer id.
func scanID(r rowScanner) (int64, error) {
	var id int64
	err := r.Scan(&id)
	return id, err
}

// allRows runs a query and returns every row scanned by scan.
func allRows[T any](ctx context.Context, tx *sql.Tx, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	var out []T
	err := eachRow(ctx, tx, scan, func(v T) error { out = append(out, v); return nil }, query, args...)
	return out, err
}

// scanString reads a row of one text column.
func scanString(row rowScanner) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}

// distinctValues lists the distinct values of an indexed text column of
// the rows in the scope (orgColumn names their organization), sorted. For
// the whole tree it takes one index seek per value however many rows there
// are; a subtree's rows are read. table and the columns are names from this
// package, never input.
func (s *Store) distinctValues(ctx context.Context, sc Scope, table, column, orgColumn string) ([]string, error) {
	if !sc.Whole() {
		var a args
		where := sc.orgCondition(&a, orgColumn)
		return readValue(ctx, s, func(tx *sql.Tx) ([]string, error) {
			return allRows(ctx, tx, scanString, `SELECT DISTINCT `+column+` FROM `+table+` WHERE `+where+` ORDER BY 1`, a.list...)
		})
	}
	return readValue(ctx, s, func(tx *sql.Tx) ([]string, error) {
		return allRows(ctx, tx, scanString, `
			WITH RECURSIVE v(x) AS (
				SELECT min(`+column+`) FROM `+table+`
				UNION ALL
				SELECT (SELECT min(`+column+`) FROM `+table+` WHERE `+column+` > v.x) FROM v WHERE v.x IS NOT NULL
			)
			SELECT x FROM v WHERE x IS NOT NULL`)
	})
}

// execer runs statements: a transaction, or a transaction's cache of
// prepared statements.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// stmtCache prepares each statement once per transaction. A bulk action
// runs the same few statements for every key it changes, and preparing
// them again each time would be much of its cost.
type stmtCache struct {
	tx      *sql.Tx
	byQuery map[string]*sql.Stmt
}

func (c *stmtCache) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.byQuery[query]; ok {
		return st, nil
	}
	st, err := c.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.byQuery == nil {
		c.byQuery = map[string]*sql.Stmt{}
	}
	c.byQuery[query] = st // closed with the transaction
	return st, nil
}

func (c *stmtCache) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (c *stmtCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.prepared(ctx, query)
	if err != nil {
		return c.tx.QueryRowContext(ctx, query, args...) // fails the same way, with the error
	}
	return st.QueryRowContext(ctx, args...)
}

// inList is "(?, ?, …)" with a placeholder for each of values, and the
// values as arguments: a list of ids, bound the same way on both engines.
// An empty list matches nothing.
func inList[T any](values []T) (string, []any) {
	if len(values) == 0 {
		return "(NULL)", nil
	}
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return "(?" + strings.Repeat(", ?", len(values)-1) + ")", args
}
