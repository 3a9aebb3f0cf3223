package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// dataVersion is the writer connection's last seen PRAGMA data_version.
// SQLite moves it on when another connection commits: here, since the
// reader pool never writes, only another process (a command run beside
// the server) does.
type dataVersion struct {
	seen atomic.Int64
	// failingSince is when the checks began to fail (Unix nanoseconds),
	// 0 while they succeed.
	failingSince atomic.Int64
}

// ReloadIfChanged forgets what the store keeps in memory (the verification
// cache) when another process has written to the database since the last
// call, so that a change made from the command line applies here too. It
// reports whether there was such a change. The server calls it every
// fraction of a second; it costs one PRAGMA on the writer connection.
func (s *Store) ReloadIfChanged(ctx context.Context) (bool, error) {
	var v int64
	if err := s.writer.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		s.changes.failingSince.CompareAndSwap(0, time.Now().UnixNano())
		return false, err
	}
	s.changes.failingSince.Store(0)
	if old := s.changes.seen.Swap(v); old == v {
		return false, nil
	}
	s.cache.drop(nil, false)
	s.orgs.drop()
	s.writes.Add(1)
	return true, nil
}

// changeFeedGrace is how long the checks for other processes' changes may
// fail before the store stops being ready: a few of the server's checks.
const changeFeedGrace = 2 * time.Second

// changeFeedProblem says why changes made by other processes may not be
// seen here, or is nil.
func (s *Store) changeFeedProblem() error {
	since := s.changes.failingSince.Load()
	if since == 0 || time.Since(time.Unix(0, since)) < changeFeedGrace {
		return nil
	}
	return fmt.Errorf("change feed: changes by other processes have not been read for %s: cached keys may be out of date",
		time.Since(time.Unix(0, since)).Round(time.Second))
}
