// Package sqlite is the SQLite engine of Keydesk's store: how a database
// file is opened (the driver and its settings, a writer connection and a
// pool of readers), its schema's migrations, how other processes' changes
// are noticed, and the checks of the file itself. The store's queries and
// rules are package store's; this package knows nothing of keys.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Func is a Go function that SQL on every connection may call.
type Func struct {
	Name string
	Impl any
	// Pure is set when the result depends on the arguments alone, so
	// that indexes and generated columns may use it.
	Pure bool
}

// Register registers, under name, the SQLite driver with funcs on every
// connection. Call it once per process, before Open.
func Register(name string, funcs ...Func) {
	sql.Register(name, &sqlite3.SQLiteDriver{
		ConnectHook: func(conn *sqlite3.SQLiteConn) error {
			// A large sort (an export of many keys, an index built in
			// bulk) may use two helper threads: on two cores an export of
			// a million keys took a fifth less time than with none, and
			// less than with one.
			_, err := conn.Exec(`PRAGMA threads = 2`, nil)
			for _, f := range funcs {
				err = errors.Join(err, conn.RegisterFunc(f.Name, f.Impl, f.Pure))
			}
			return err
		},
	})
}

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the schema's migrations, named by their numbers.
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations") // a fixed, embedded directory
	return sub
}

// DB is an open database file. Writes go through Writer's single
// connection, so they never wait on each other for the lock; reads use
// Reader, a pool of read-only connections that WAL lets run beside it.
type DB struct {
	Writer *sql.DB
	Reader *sql.DB
	Path   string
	driver string
	// file is the database file, held open for Ready's reads and closed
	// only after SQLite's connections: closing any descriptor of a file
	// drops every POSIX lock the process holds on it, which SQLite's own
	// connections rely on. So nothing else may open and close the
	// database file.
	file *os.File
}

// Open opens the database file at path with the driver registered as
// driver, creating it when create is set, and applies every migration it
// has not seen yet.
func Open(ctx context.Context, driver, path string, create bool) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: no database path")
	}
	if err := openProblem(path); err != nil {
		return nil, err
	}
	// Settings go in the DSN so that every pooled connection gets them.
	base := "file:" + escapeDSNPath(path)
	mode := "rwc"
	if !create {
		mode = "rw"
	}
	writer, err := sql.Open(driver, base+"?mode="+mode+
		"&_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=5000&_foreign_keys=on&_txlock=immediate&_cache_size=-65536")
	if err != nil {
		return nil, err
	}
	writer.SetMaxOpenConns(1)
	writer.SetConnMaxIdleTime(0)
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, describeOpenError(path, err)
	}
	db := &DB{Writer: writer, Path: path, driver: driver}
	if err := db.migrate(ctx); err != nil {
		writer.Close()
		return nil, err
	}
	// The read pool opens after migration so the file exists and is in WAL mode.
	if db.Reader, err = sql.Open(driver, base+"?mode=ro&_busy_timeout=5000&_foreign_keys=on"); err != nil {
		writer.Close()
		return nil, err
	}
	db.Reader.SetMaxOpenConns(8)
	db.Reader.SetMaxIdleConns(8)
	if err := db.Reader.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s read-only: %w", path, err)
	}
	if db.file, err = os.Open(path); err != nil {
		db.Close()
		return nil, describeOpenError(path, err)
	}
	return db, nil
}

// Pools returns the writer and the pool of readers.
func (db *DB) Pools() (writer, reader *sql.DB) { return db.Writer, db.Reader }

// Name is the file's path.
func (db *DB) Name() string { return db.Path }

// Close closes the readers, then the writer, then the file. The writer
// goes last: the last connection to close writes the log (-wal) into the
// file and deletes it, which a read-only one cannot do.
func (db *DB) Close() error {
	var err error
	if db.Reader != nil {
		err = db.Reader.Close()
	}
	err = errors.Join(err, db.Writer.Close())
	if db.file != nil { // last: see DB.file
		err = errors.Join(err, db.file.Close())
	}
	return err
}

// escapeDSNPath keeps a file name with URI metacharacters from being read as
// query parameters.
func escapeDSNPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// migrate applies the embedded migrations in order, each in its own
// transaction together with the bump of user_version that records it.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	var current int
	if err := db.Writer.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("cannot read the database %s: %w", db.Path, err)
	}
	numbers := make([]int, len(names))
	for i, name := range names {
		n, err := strconv.Atoi(strings.SplitN(path.Base(name), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("store: migration %s has no number", name)
		}
		numbers[i] = n
	}
	// A newer Keydesk may have changed the schema in ways this one would
	// misread or undo: refuse rather than serve it.
	if known := numbers[len(numbers)-1]; current > known {
		return fmt.Errorf("store: the database %s was made by a newer Keydesk (schema version %d; this Keydesk knows up to %d): upgrade Keydesk, or restore a backup",
			db.Path, current, known)
	}
	for i, name := range names {
		n := numbers[i]
		if n <= current {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if err := db.apply(ctx, string(body), n); err != nil {
			return fmt.Errorf("store: migration %s: %w", name, err)
		}
		current = n
	}
	return nil
}

// apply runs one migration and records its number, in one transaction.
func (db *DB) apply(ctx context.Context, body string, n int) error {
	tx, err := db.Writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	// PRAGMA takes no bound parameters; n is a number we parsed.
	if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(n)); err != nil {
		return err
	}
	return tx.Commit()
}

// IDArray is a JSON array of the column's values.
func (db *DB) IDArray(column string) string { return "json_group_array(" + column + ")" }

// IDsIn lists the values of the JSON array bound to holder.
func (db *DB) IDsIn(holder string) string { return "SELECT value FROM json_each(" + holder + ")" }

// Contains finds part in text with instr.
func (db *DB) Contains(text, part string) string { return "instr(" + text + ", " + part + ") > 0" }

// IndexesOf reads the indexes' statements from sqlite_schema, which has
// none for those that constraints make.
func (db *DB) IndexesOf() string {
	return `SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`
}

// DownSince is always zero: another process's writes move DataVersion,
// which the server reads four times a second.
func (db *DB) DownSince() time.Time { return time.Time{} }

// WrittenColumns reads table_xinfo, which marks generated columns hidden.
func (db *DB) WrittenColumns() string {
	return `SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0 ORDER BY cid`
}

// ResetIDs does nothing: a row's id follows the largest written, given
// or not.
func (db *DB) ResetIDs(ctx context.Context, tx *sql.Tx) error { return nil }

// ReadIsolation is the default: a SQLite read transaction reads one
// snapshot of the file.
func (db *DB) ReadIsolation() sql.IsolationLevel { return sql.LevelDefault }

// LockWrites does nothing: the writer is one connection, whose
// transactions begin immediate, so they already run one at a time.
func (db *DB) LockWrites(ctx context.Context, tx *sql.Tx) error { return nil }

// LockName does nothing: one server works on a file (see the store's
// lock), and the commands run beside it check no passwords, the one use
// of named locks.
func (db *DB) LockName(ctx context.Context, name string) (unlock func(), err error) {
	return func() {}, nil
}

// DataVersion is the writer connection's PRAGMA data_version, which
// SQLite moves on when another connection commits: since the read pool
// never writes, only another process (a command run beside the server)
// moves it. It costs one PRAGMA.
func (db *DB) DataVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.Writer.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v)
	return v, err
}

// WriterWithCache holds the writer's one connection with its page cache
// raised to kib KiB, for work that changes most pages of a large table in
// one transaction: with the usual cache, dirty pages spill to the WAL
// before the commit, many of them again and again. done gives the
// connection back to the pool with its usual cache, which frees the rest.
func (db *DB) WriterWithCache(ctx context.Context, kib int) (conn *sql.Conn, done func(), err error) {
	if conn, err = db.Writer.Conn(ctx); err != nil {
		return nil, nil, err
	}
	var usual int
	if err := conn.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&usual); err != nil {
		conn.Close()
		return nil, nil, err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA cache_size = -`+strconv.Itoa(kib)); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, func() {
		conn.ExecContext(context.Background(), `PRAGMA cache_size = `+strconv.Itoa(usual))
		conn.Close()
	}, nil
}

// Check reports whether the database file can be read now, or why not. It
// checks the file's header itself, since in WAL mode SQLite may take the
// first page from the log rather than the file; then it opens its own
// short-lived read-only connection, because a pooled one may keep serving
// cached pages of a file that was damaged under it, and reads the schema
// and the first row of table.
func (db *DB) Check(ctx context.Context, table string) error {
	if err := db.checkHeader(); err != nil {
		return err
	}
	// The same settings as the read pool, in the DSN.
	conn, err := sql.Open(db.driver, "file:"+escapeDSNPath(db.Path)+"?mode=ro&_busy_timeout=1000")
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	var tables int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return err
	}
	// Every column, in rowid order, so that the table itself is read
	// rather than an index.
	rows, err := conn.QueryContext(ctx, "SELECT * FROM "+table+" ORDER BY rowid LIMIT 1")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// sqliteMagic opens every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// errNotADatabase words a damaged header as SQLite does.
var errNotADatabase = errors.New("file is not a database")

// checkHeader reads the first bytes of the database file through the
// descriptor the DB holds open (see DB.file), and checks that the path
// still names that file.
func (db *DB) checkHeader() error {
	onDisk, err := os.Stat(db.Path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) { // the reason, without the path
			return pe.Err
		}
		return err
	}
	held, err := db.file.Stat()
	if err != nil {
		return err
	}
	if !os.SameFile(onDisk, held) {
		return errors.New("the database file was replaced or moved")
	}
	head := make([]byte, len(sqliteMagic))
	_, err = db.file.ReadAt(head, 0)
	if errors.Is(err, io.EOF) || (err == nil && string(head) != sqliteMagic) {
		return errNotADatabase
	}
	return err
}
