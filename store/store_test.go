package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testClock is a settable clock for a test store.
type testClock struct{ now time.Time }

func (c *testClock) Now() time.Time          { return c.now }
func (c *testClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

// newTestStore opens a store on a fresh file in the test's temp dir, with
// its clock at a fixed time.
func newTestStore(t testing.TB) (*Store, *testClock) {
	t.Helper()
	s, err := open(context.Background(), testDatabase(t), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	clock := &testClock{now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	s.Now = clock.Now
	return s, clock
}

var testActor = Actor{UserID: 0, Username: "tester", ClientAddr: "192.0.2.1", UserAgent: "test"}

// mustCreateKey creates a key with defaults for what in leaves empty.
func mustCreateKey(t testing.TB, s *Store, in NewKey) (Key, string) {
	t.Helper()
	if len(in.Permissions) == 0 {
		in.Permissions = []string{"chat"}
	}
	if in.Capacity == 0 {
		in.Capacity, in.Frequency = DefaultCapacity, DefaultFrequency
	}
	k, secret, err := s.CreateKey(context.Background(), testActor, in)
	if err != nil {
		t.Fatalf("create key %q: %v", in.Name, err)
	}
	return k, secret
}

// count returns the number of rows of a table.
func count(t testing.TB, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.writer.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// countSearchEntries counts the entries of SQLite's key search index
// other than the key with row id except's; PostgreSQL has none.
func countSearchEntries(t testing.TB, s *Store, except int64) int {
	t.Helper()
	if onPostgres {
		return 0
	}
	var n int
	if err := s.reader.QueryRow(`SELECT count(*) FROM key_search WHERE docid != ?`, except).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkSearchIndexes fails unless both search indexes hold exactly the
// words of the rows they index: FTS4's integrity check compares them with
// the text the views compute.
// PostgreSQL keeps no index beside the tables: nothing to check there.
func checkSearchIndexes(t testing.TB, s *Store) {
	t.Helper()
	if onPostgres {
		return
	}
	for _, table := range []string{"key_search", "event_search"} {
		if _, err := s.writer.Exec(`INSERT INTO ` + table + ` (` + table + `) VALUES ('integrity-check')`); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
	}
	// Every word of every key is a search word, which its suffixes find.
	var missing, unfound int
	// A key's words, as a JSON array: they hold only letters and digits.
	err := s.writer.QueryRow(`SELECT count(*) FROM key_search_text t, json_each('["' || replace(t.terms, ' ', '","') || '"]') j
		WHERE t.terms != '' AND j.value NOT IN (SELECT word FROM search_words)`).Scan(&missing)
	if err != nil || missing > 0 {
		t.Fatalf("%d words of keys are not search words (%v)", missing, err)
	}
	err = s.writer.QueryRow(`SELECT count(*) FROM search_words w
		WHERE w.id NOT IN (SELECT docid FROM word_search WHERE word_search MATCH substr(w.word, -1) || '*')`).Scan(&unfound)
	if err != nil || unfound > 0 {
		t.Fatalf("%d search words are not found by their last letter (%v)", unfound, err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func TestOpenSetsPragmasOnEveryConnection(t *testing.T) {
	sqliteOnly(t, "PRAGMAs")
	s, _ := newTestStore(t)
	ctx := context.Background()
	var mode string
	if err := s.writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("writer journal_mode = %q, %v; want wal", mode, err)
	}
	// Hold several reader connections at once so the check reaches more
	// than one pooled connection.
	for i := 0; i < 3; i++ {
		conn, err := s.reader.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var fk, timeout int
		if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
			t.Fatalf("reader %d foreign_keys = %d, %v", i, fk, err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil || timeout != 5000 {
			t.Fatalf("reader %d busy_timeout = %d, %v", i, timeout, err)
		}
		if _, err := conn.ExecContext(ctx, "CREATE TABLE nope (x)"); err == nil {
			t.Fatalf("reader %d could write", i)
		}
	}
	var fk int
	if err := s.writer.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("writer foreign_keys = %d, %v", fk, err)
	}
}

func TestOpenTwiceKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keydesk.db")
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	mustCreateKey(t, s, NewKey{Name: "kept"})
	var version int
	s.writer.QueryRow("PRAGMA user_version").Scan(&version)
	s.Close()

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var again int
	s.writer.QueryRow("PRAGMA user_version").Scan(&again)
	if version == 0 || again != version {
		t.Fatalf("schema version %d, then %d", version, again)
	}
	if n := count(t, s, "keys"); n != 1 {
		t.Fatalf("keys after reopening = %d, want 1", n)
	}
}

func TestBackup(t *testing.T) {
	sqliteOnly(t, "the backup of the file")
	s, _ := newTestStore(t)
	mustCreateKey(t, s, NewKey{Name: "backed-up"})
	out := filepath.Join(t.TempDir(), "copy.db")
	if err := s.Backup(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	c, err := Open(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n := count(t, c, "keys"); n != 1 {
		t.Fatalf("keys in backup = %d, want 1", n)
	}
}

// TestCloseLeavesNoLog: closing the store writes SQLite's log into the
// file and deletes it, so that a closed database is one file, and the next
// opening does not read through a log as large as its last writes.
func TestCloseLeavesNoLog(t *testing.T) {
	sqliteOnly(t, "the file's log")
	path := filepath.Join(t.TempDir(), "keydesk.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	mustCreateKey(t, s, NewKey{Name: "logged"})
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no log while open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the log is still there after Close: %v", err)
	}
}
