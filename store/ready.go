package store

import (
	"context"
	"errors"
	"fmt"
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

func (s *Store) readyCheck(ctx context.Context) error { return s.db.Check(ctx, "keys") }
