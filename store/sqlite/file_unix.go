//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ServerLock is held by the one server that serves a database file; see
// LockServer.
type ServerLock struct{ f *os.File }

// LockServer makes sure that only one server uses the database at path:
// two would each trust their own memory (cached keys, rate limits) and
// silently disagree. It takes an exclusive lock on a file beside the
// database, which the system releases when the process ends however it
// ends; commands run beside the server do not take it.
func LockServer(path string) (*ServerLock, error) {
	// The lock sits beside the real file, so that a link to the database
	// and the database itself share one lock.
	real := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		real = resolved
	}
	name := real + ".serve-lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, describeOpenError(name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(name)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another Keydesk server is already using %s (%s); stop it first, or give this one another --db",
				path, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	// Say who holds it, for the message the next one prints.
	who := "process " + strconv.Itoa(os.Getpid()) + ", started " + time.Now().UTC().Format("2006-01-02 15:04:05 UTC")
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(who+"\n"), 0)
	}
	return &ServerLock{f: f}, nil
}

// Release gives the lock up.
func (l *ServerLock) Release() error {
	if l.f == nil {
		return nil // no lock was needed
	}
	return l.f.Close() // closing the file releases the lock
}

// describeOpenError names the real reason a database file could not be
// opened, when openProblem finds one.
func describeOpenError(path string, err error) error {
	if problem := openProblem(path); problem != nil {
		return problem
	}
	return fmt.Errorf("cannot open the database %s: %w", path, err)
}

// openProblem returns what keeps the database file at path from being
// opened for writing, or nil. SQLite reports most of these as "unable to
// open database file: no such file or directory", which sends people
// looking for the wrong thing: a read-only mount or an unwritable folder
// say the same.
func openProblem(path string) error {
	dir := filepath.Dir(path)
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot open the database %s: the folder %s does not exist", path, dir)
	case err == nil && !info.IsDir():
		return fmt.Errorf("cannot open the database %s: %s is not a folder", path, dir)
	}
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return fmt.Errorf("cannot open the database %s: it is a folder, not a file", path)
	}
	// Keydesk writes the database, and SQLite its -wal and -shm files
	// beside it, so both the file and its folder must be writable.
	for _, p := range []struct{ name, what string }{{path, "the file"}, {dir, "the folder"}} {
		switch err := syscall.Access(p.name, 2 /* W_OK */); {
		case errors.Is(err, syscall.EROFS):
			return fmt.Errorf("cannot open the database %s: it is on a read-only file system; Keydesk must be able to write it and the -wal and -shm files beside it", path)
		case errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM):
			return fmt.Errorf("cannot open the database %s: user %d has no permission to write %s %s; Keydesk must be able to write it and the -wal and -shm files beside it",
				path, os.Geteuid(), p.what, p.name)
		}
	}
	return nil
}
