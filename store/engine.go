package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/keydesk/keydesk/store/postgres"
	"github.com/keydesk/keydesk/store/sqlite"
)

// engine is the database the store keeps its data in: a SQLite file
// (store/sqlite) or a PostgreSQL database (store/postgres). The store's
// queries run on both; what differs between them is here.
type engine interface {
	// Pools returns the writer, through which every write goes, and the
	// pool of readers.
	Pools() (writer, reader *sql.DB)
	// ReadIsolation is the isolation that makes a read transaction see
	// one snapshot.
	ReadIsolation() sql.IsolationLevel
	// LockWrites makes tx, a transaction of the writer, the only one
	// writing to the database until it ends, in this process or another.
	LockWrites(ctx context.Context, tx *sql.Tx) error
	// LockName holds a lock on name until unlock, for one holder at a
	// time in this process or another.
	LockName(ctx context.Context, name string) (unlock func(), err error)
	// Name names the database for people: a file's path, or a URL
	// without its password.
	Name() string
	// Check reports whether the database answers now, reading the first
	// row of table, or why not.
	Check(ctx context.Context, table string) error
	// DataVersion moves on when another process has written to the
	// database (see ReloadIfChanged).
	DataVersion(ctx context.Context) (int64, error)
	// DownSince is zero while what the store cached is current; while
	// PostgreSQL's change feed is down, it is since when, and
	// verifications read every key from the database (see Store.StaleFor).
	DownSince() time.Time
	// WriterWithCache holds the writer's connection, made ready for work
	// on most of a table, until done.
	WriterWithCache(ctx context.Context, kib int) (conn *sql.Conn, done func(), err error)
	Close() error

	// The SQL that differs between the engines, for the store's queries:
	//
	// IDArray aggregates the integer column into one text value, which
	// IDsIn lists back, bound to holder, as the column value.
	IDArray(column string) string
	IDsIn(holder string) string
	// Contains is the condition that the text text holds part.
	Contains(text, part string) string
	// WrittenColumns is a query of the names of the columns of the table
	// bound to its one parameter that a row is written with: all but
	// those the database computes.
	WrittenColumns() string
	// ResetIDs makes the next rows of every table take ids after those
	// that were written with their ids given (a copy's).
	ResetIDs(ctx context.Context, tx *sql.Tx) error
	// IndexesOf is a query of the name and the statement that makes
	// each index of the table bound to its one parameter, except those
	// of its primary key and unique constraints.
	IndexesOf() string
}

var (
	_ engine = (*sqlite.DB)(nil)
	_ engine = (*postgres.DB)(nil)
)

// openEngine opens the database that dsn names, a postgres:// URL or else
// a SQLite file (created when create is set), with its text index.
func openEngine(ctx context.Context, dsn string, create bool) (engine, textIndex, error) {
	if postgres.IsURL(dsn) {
		db, err := postgres.Open(ctx, dsn)
		return db, pgSearch{}, err
	}
	db, err := sqlite.Open(ctx, DriverName, dsn, create)
	return db, ftsIndex{}, err
}
