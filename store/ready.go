package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// readyTimeout bounds the readiness check: a database that takes longer
// than this to answer two tiny reads is not ready.
const readyTimeout = 2 * time.Second

// Ready reports whether the database file can be read now, or why not. It
// checks the file's header itself, since in WAL mode SQLite may take the
// first page from the log rather than the file; then it opens its own
// short-lived read-only connection, because a pooled one may keep serving
// cached pages of a file that was damaged under it, and reads the schema
// and one row of the keys table.
//
// It also reports the change feed: when no check for changes by other
// processes (ReloadIfChanged, which serve makes four times a second) has
// succeeded for a while, the cache may hold keys those processes changed.
func (s *Store) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := s.readyCheck(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("database: no answer within %s", readyTimeout)
		}
		return fmt.Errorf("database: %w", err)
	}
	return s.changeFeedProblem()
}

func (s *Store) readyCheck(ctx context.Context) error {
	file := s.path
	if err := s.checkHeader(); err != nil {
		return err
	}
	// The same settings as the store's read pool, in the DSN.
	db, err := sql.Open(DriverName, "file:"+escapeDSNPath(file)+"?mode=ro&_busy_timeout=1000")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var tables int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return err
	}
	// In rowid order, so that the table itself is read rather than an index.
	var id int64
	var keyName string
	if err := db.QueryRowContext(ctx, "SELECT id, name FROM keys ORDER BY id LIMIT 1").Scan(&id, &keyName); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return nil
}

// sqliteMagic opens every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// errNotADatabase words a damaged header as SQLite does.
var errNotADatabase = errors.New("file is not a database")

// checkHeader reads the first bytes of the database file through the
// descriptor the store holds open (see Store.file), and checks that the
// path still names that file.
func (s *Store) checkHeader() error {
	onDisk, err := os.Stat(s.path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) { // the reason, without the path
			return pe.Err
		}
		return err
	}
	held, err := s.file.Stat()
	if err != nil {
		return err
	}
	if !os.SameFile(onDisk, held) {
		return errors.New("the database file was replaced or moved")
	}
	head := make([]byte, len(sqliteMagic))
	_, err = s.file.ReadAt(head, 0)
	if errors.Is(err, io.EOF) || (err == nil && string(head) != sqliteMagic) {
		return errNotADatabase
	}
	return err
}
