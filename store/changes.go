package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// dataVersion is the last data version seen (see sqlite.DB.DataVersion):
// only another process (a command run beside the server) moves it.
type dataVersion struct {
	seen atomic.Int64
	// checked is when a check last succeeded, in Unix nanoseconds by the
	// store's clock.
	checked atomic.Int64
}

// ReloadIfChanged forgets what the store keeps in memory (the verification
// cache) when another process has written to the database since the last
// call, so that a change made from the command line applies here too. It
// reports whether there was such a change. The server calls it every
// fraction of a second; it costs one PRAGMA on the writer connection.
func (s *Store) ReloadIfChanged(ctx context.Context) (bool, error) {
	v, err := s.db.DataVersion(ctx)
	if err != nil {
		return false, err
	}
	s.changes.checked.Store(s.now().UnixNano())
	if old := s.changes.seen.Swap(v); old == v {
		return false, nil
	}
	s.forget(nil, false, true)
	s.writes.Add(1)
	return true, nil
}

// forget drops from the caches the keys with these row ids (deleted: they
// are gone, with their rate limits and uncounted uses), or with all every
// key and organization.
func (s *Store) forget(keys []int64, deleted, all bool) {
	if all {
		s.orgs.drop()
		s.cache.drop(nil, false)
		return
	}
	s.cache.drop(keys, deleted)
}

// changeFeedGrace is how long the checks for other processes' changes may
// go without a success before the store stops being ready: several of the
// server's checks, which fail or stop.
const changeFeedGrace = 2 * time.Second

// changeFeedProblem says why changes made by other processes may not be
// seen here, or is nil.
func (s *Store) changeFeedProblem() error {
	since := s.now().Sub(time.Unix(0, s.changes.checked.Load()))
	if since <= changeFeedGrace {
		return nil
	}
	return fmt.Errorf("change feed: changes by other processes have not been read for %s: cached keys may be out of date",
		since.Round(time.Second))
}
