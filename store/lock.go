package store

import (
	"github.com/keydesk/keydesk/store/postgres"
	"github.com/keydesk/keydesk/store/sqlite"
)

// ServerLock is held by the one server that serves a database file.
type ServerLock = sqlite.ServerLock

// LockServer makes sure that only one server uses the database file at
// path: two would each trust their own memory (cached keys, rate limits)
// and silently disagree (see sqlite.LockServer). Any number of instances
// share a PostgreSQL database, whose change feed keeps them in step: for
// a postgres:// URL it locks nothing.
func LockServer(path string) (*ServerLock, error) {
	if IsPostgres(path) {
		return &ServerLock{}, nil
	}
	return sqlite.LockServer(path)
}

// IsPostgres reports whether db, the value of --db, names a PostgreSQL
// database rather than a SQLite file.
func IsPostgres(db string) bool { return postgres.IsURL(db) }
