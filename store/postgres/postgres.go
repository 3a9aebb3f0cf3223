// Package postgres is the PostgreSQL engine of Keydesk's store, beside
// store/sqlite: how a database named by a postgres:// URL is opened (pgx,
// with the store's placeholders, a writer pool and a reader pool), and its schema's migrations, which any
// number of instances starting at once apply exactly once. The store's
// queries and rules are package store's; this package knows nothing of
// keys.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrations embed.FS

// IsURL reports whether dsn names a PostgreSQL database rather than a
// SQLite file.
func IsURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// migrationLock is the advisory lock that migrations hold: "keydesk" in
// ASCII. Another program's advisory locks on the same database would have
// to pick the same number to collide.
const migrationLock int64 = 0x6b65796465736b

// writeLock is the advisory lock every write transaction holds: "keydeskw".
const writeLock int64 = 0x6b65796465736b77

// namedLocks is the first key of LockName's advisory locks: "kdnl".
const namedLocks int32 = 0x6b646e6c

// DB is an open PostgreSQL database. Writer and Reader are two pools, as
// on SQLite, so that the store's writes and reads keep their own limits.
type DB struct {
	Writer *sql.DB
	Reader *sql.DB
	// Version is the schema's version after Open: the number of the last
	// migration applied.
	Version int
	name    string
	dsn     string
	feed    feed
	// locks holds LockName's locks, a connection each: on a pool of
	// their own, since whoever holds one goes on to read and write
	// through the others, and would wait forever for a connection that
	// another holder of a lock keeps.
	locks *sql.DB
}

// Open connects to the database at dsn (a postgres:// URL) and applies every migration it has
// not seen yet.
func Open(ctx context.Context, dsn string) (*DB, error) {
	writer, err := sql.Open(DriverName, dsn)
	if err != nil {
		return nil, err
	}
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("cannot reach the database %s: %w", redact(dsn), err)
	}
	writer.SetMaxOpenConns(4)
	db := &DB{Writer: writer, name: redact(dsn), dsn: dsn}
	if db.Version, err = migrate(ctx, writer); err != nil {
		writer.Close()
		return nil, fmt.Errorf("store: %s: %w", redact(dsn), err)
	}
	if db.Reader, err = sql.Open(DriverName, dsn); err != nil {
		writer.Close()
		return nil, err
	}
	db.Reader.SetMaxOpenConns(8)
	db.Reader.SetMaxIdleConns(8)
	if db.locks, err = sql.Open(DriverName, dsn); err != nil {
		db.Reader.Close()
		writer.Close()
		return nil, err
	}
	db.locks.SetMaxOpenConns(16)
	db.locks.SetMaxIdleConns(1)
	return db, nil
}

// Pools returns the writer and the pool of readers.
func (db *DB) Pools() (writer, reader *sql.DB) { return db.Writer, db.Reader }

// Name is the database's URL, without its password.
func (db *DB) Name() string { return db.name }

// Close stops listening and closes the pools.
func (db *DB) Close() error {
	db.feed.stop()
	return errors.Join(db.locks.Close(), db.Reader.Close(), db.Writer.Close())
}

// Check reports whether the database answers now, reading the first row
// of table, or why not.
func (db *DB) Check(ctx context.Context, table string) error {
	rows, err := db.Reader.QueryContext(ctx, "SELECT * FROM "+table+" LIMIT 1")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// ReadIsolation is REPEATABLE READ: under PostgreSQL's default, READ
// COMMITTED, each statement of a read would see what committed before
// it, and a page's count, its rows and their organizations could differ.
func (db *DB) ReadIsolation() sql.IsolationLevel { return sql.LevelRepeatableRead }

// LockWrites makes tx the only write transaction on the database until it
// ends, across every instance, as SQLite's one writer is: the store's
// rules read, then write (a name is free, a user is under the policy's
// allowance, events' ids rise with their times), and two writers at once
// would break them, or deadlock on each other's rows.
func (db *DB) LockWrites(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", writeLock)
	return err
}

// LockName holds an advisory lock on name (hashed: two names may share
// one, which only makes them wait for each other) until unlock, on a
// connection kept for it: the lock belongs to the session, not to a
// transaction.
func (db *DB) LockName(ctx context.Context, name string) (unlock func(), err error) {
	conn, err := db.locks.Conn(ctx)
	if err != nil {
		return nil, err
	}
	const lock = "SELECT pg_advisory_lock(CAST(? AS integer), hashtext(?))"
	if _, err := conn.ExecContext(ctx, lock, namedLocks, name); err != nil {
		conn.Close()
		return nil, err
	}
	return func() {
		const unlock = "SELECT pg_advisory_unlock(CAST(? AS integer), hashtext(?))"
		if _, err := conn.ExecContext(context.Background(), unlock, namedLocks, name); err != nil {
			// The lock goes with its session: a connection that could
			// not unlock is closed, not given back to the pool.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, nil
}

// LeaseRate takes back giveBack of the key's verifications, reserved
// before and not spent, then reserves up to want at now from the bucket
// every instance shares (see migrations 004 and 005). It returns the
// bucket's time (tat) after, and how many it granted: none when the
// bucket is empty. It runs on the reader pool: the writer's connections
// may all be waiting for the write lock, which this one statement does not
// need.
func (db *DB) LeaseRate(ctx context.Context, key, now, interval, burst, want, giveBack int64) (tat, granted int64, err error) {
	err = db.Reader.QueryRowContext(ctx, "SELECT new_tat, granted FROM keydesk_lease_rate(?, ?, ?, ?, ?, ?)",
		key, now, interval, burst, want, giveBack).Scan(&tat, &granted)
	return tat, granted, err
}

// IDArray is a JSON array of the column's values, as text.
func (db *DB) IDArray(column string) string {
	return "coalesce(CAST(json_agg(" + column + ") AS text), '[]')"
}

// IDsIn lists the values of the JSON array bound to holder, as text.
func (db *DB) IDsIn(holder string) string {
	return "SELECT CAST(value AS bigint) AS value FROM json_array_elements_text(CAST(CAST(" + holder + " AS text) AS json))"
}

// Contains finds part in text with strpos.
func (db *DB) Contains(text, part string) string { return "strpos(" + text + ", " + part + ") > 0" }

// WrittenColumns reads the catalog, which marks generated columns.
func (db *DB) WrittenColumns() string {
	return `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ? AND is_generated = 'NEVER' ORDER BY ordinal_position`
}

// ResetIDs moves every identity column's sequence in the current schema
// past the largest id its table holds.
func (db *DB) ResetIDs(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES'`)
	if err != nil {
		return err
	}
	var identities [][2]string
	for rows.Next() {
		var c [2]string
		if err := rows.Scan(&c[0], &c[1]); err != nil {
			rows.Close()
			return err
		}
		identities = append(identities, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range identities {
		table, column := pgIdent(c[0]), pgIdent(c[1])
		if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence(?, ?), coalesce(max(`+column+`), 0) + 1, false) FROM `+table,
			c[0], c[1]); err != nil {
			return err
		}
	}
	return nil
}

// pgIdent quotes an identifier.
func pgIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// IndexesOf reads the indexes of the table in the current schema from
// the catalog.
func (db *DB) IndexesOf() string {
	return `SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
		WHERE t.relname = ? AND t.relnamespace = CAST(current_schema() AS regnamespace)
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)`
}

// DataVersion moves on each time the change feed connects again; it
// fails while the feed is down (see Listen).
func (db *DB) DataVersion(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return db.feed.version()
}

// WriterWithCache holds a connection of the writer until done: the
// server's own cache serves PostgreSQL's bulk work.
func (db *DB) WriterWithCache(ctx context.Context, kib int) (conn *sql.Conn, done func(), err error) {
	if conn, err = db.Writer.Conn(ctx); err != nil {
		return nil, nil, err
	}
	return conn, func() { conn.Close() }, nil
}

// migrate applies the embedded migrations that the database has not seen,
// in order, in one transaction that holds migrationLock: instances that
// start at once wait for the first, then find nothing left to do. It
// returns the schema's version.
func migrate(ctx context.Context, db *sql.DB) (int, error) {
	names, numbers, err := migrationFiles()
	if err != nil {
		return 0, err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", migrationLock); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS keydesk_schema (version integer NOT NULL)"); err != nil {
		return 0, err
	}
	current := 0
	err = tx.QueryRowContext(ctx, "SELECT version FROM keydesk_schema").Scan(&current)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, "INSERT INTO keydesk_schema (version) VALUES (0)"); err != nil {
			return 0, err
		}
	case err != nil:
		return 0, err
	}
	// A newer Keydesk may have changed the schema in ways this one would
	// misread or undo: refuse rather than serve it.
	if known := numbers[len(numbers)-1]; current > known {
		return 0, fmt.Errorf("the database was made by a newer Keydesk (schema version %d; this Keydesk knows up to %d): upgrade Keydesk, or restore a backup",
			current, known)
	}
	for i, name := range names {
		if numbers[i] <= current {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return 0, fmt.Errorf("migration %s: %w", path.Base(name), err)
		}
		current = numbers[i]
	}
	if _, err := tx.ExecContext(ctx, "UPDATE keydesk_schema SET version = ?", current); err != nil {
		return 0, err
	}
	return current, tx.Commit()
}

// migrationFiles lists the embedded migrations in order, with their numbers.
func migrationFiles() (names []string, numbers []int, err error) {
	names, err = fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		n, err := strconv.Atoi(strings.SplitN(path.Base(name), "_", 2)[0])
		if err != nil {
			return nil, nil, fmt.Errorf("store: migration %s has no number", name)
		}
		numbers = append(numbers, n)
	}
	return names, numbers, nil
}

// redact hides the password of a database URL, for messages and logs.
// Redact is dsn without its password, for messages.
func Redact(dsn string) string { return redact(dsn) }

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "the database URL" // unparsable: say nothing of it
	}
	return u.Redacted()
}
