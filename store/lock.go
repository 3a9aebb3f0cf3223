package store

import "github.com/keydesk/keydesk/store/sqlite"

// ServerLock is held by the one server that serves a database file.
type ServerLock = sqlite.ServerLock

// LockServer makes sure that only one server uses the database at path:
// two would each trust their own memory (cached keys, rate limits) and
// silently disagree (see sqlite.LockServer).
func LockServer(path string) (*ServerLock, error) { return sqlite.LockServer(path) }
