package store

import (
	"context"
	"sync/atomic"
)

// dataVersion is the writer connection's last seen PRAGMA data_version.
// SQLite moves it on when another connection commits: here, since the
// reader pool never writes, only another process (a command run beside
// the server) does.
type dataVersion struct{ seen atomic.Int64 }

// ReloadIfChanged forgets what the store keeps in memory (the verification
// cache) when another process has written to the database since the last
// call, so that a change made from the command line applies here too. It
// reports whether there was such a change. The server calls it every
// fraction of a second; it costs one PRAGMA on the writer connection.
func (s *Store) ReloadIfChanged(ctx context.Context) (bool, error) {
	var v int64
	if err := s.writer.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		return false, err
	}
	if old := s.changes.seen.Swap(v); old == v {
		return false, nil
	}
	s.cache.drop(nil, false)
	s.orgs.drop()
	s.writes.Add(1)
	return true, nil
}
