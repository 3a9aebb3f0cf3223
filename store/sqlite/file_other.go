//go:build !unix

package sqlite

import "fmt"

// ServerLock is held by the one server that serves a database file. Where
// there is no flock, there is no lock: run one server per file.
type ServerLock struct{}

// LockServer does nothing on systems without flock.
func LockServer(path string) (*ServerLock, error) { return &ServerLock{}, nil }

// Release gives the lock up.
func (l *ServerLock) Release() error { return nil }

func openProblem(path string) error { return nil }

func describeOpenError(path string, err error) error {
	return fmt.Errorf("cannot open the database %s: %w", path, err)
}
