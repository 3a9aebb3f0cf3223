package store

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReady(t *testing.T) {
	sqliteOnly(t, "a damaged file")
	ctx := context.Background()
	// damage writes garbage into the open store's file at a page.
	damage := func(t *testing.T, s *Store, page int64) {
		t.Helper()
		var file string
		if err := s.reader.QueryRowContext(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file); err != nil {
			t.Fatal(err)
		}
		if filepath.Base(file) != "keydesk.db" {
			t.Fatalf("database file %q", file)
		}
		var pageSize int64
		if err := s.reader.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(file, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte(strings.Repeat("garbage!", 16)), (page-1)*pageSize); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name       string
		checkpoint bool // move every page from the WAL into the file first
		page       func(t *testing.T, s *Store) int64
		want       string
	}{
		{"garbage over the header", false, func(*testing.T, *Store) int64 { return 1 }, "database: file is not a database"},
		{"garbage over the header, checkpointed", true, func(*testing.T, *Store) int64 { return 1 }, "database: file is not a database"},
		{"garbage over the keys table", true, func(t *testing.T, s *Store) int64 {
			var root int64
			if err := s.reader.QueryRowContext(ctx, "SELECT rootpage FROM sqlite_schema WHERE name = 'keys'").Scan(&root); err != nil {
				t.Fatal(err)
			}
			return root
		}, "database: database disk image is malformed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestStore(t)
			mustCreateKey(t, s, NewKey{Name: "one", Enabled: true})
			if err := s.Ready(ctx); err != nil {
				t.Fatalf("a sound database: %v", err)
			}
			if tt.checkpoint {
				if _, err := s.writer.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
					t.Fatal(err)
				}
			}
			// Read through the pool first, so that it holds the pages.
			if _, err := s.EachKey(ctx, Scope{}, KeyFilter{}, SortName, false, func(Key) error { return nil }); err != nil {
				t.Fatal(err)
			}
			damage(t, s, tt.page(t, s))
			err := s.Ready(ctx)
			if err == nil {
				t.Fatal("a damaged database is ready")
			}
			if got := err.Error(); got != tt.want {
				t.Fatalf("reason %q, want %q", got, tt.want)
			}
		})
	}
}

// TestReadyKeepsSQLiteLocks runs the readiness check, then has another
// process (the sqlite3 shell) open and close the database, as a command run
// beside the server does. Had the check opened and closed the database
// file itself, that would have dropped SQLite's locks in this process, and
// the other process, believing itself the last user, would have checked
// the log into the file and deleted it under the server.
func TestReadyKeepsSQLiteLocks(t *testing.T) {
	sqliteOnly(t, "the file's locks")
	shell, err := exec.LookPath("sqlite3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI must have the sqlite3 shell (apt-get install sqlite3)")
		}
		t.Skip("needs the sqlite3 shell: apt-get install sqlite3")
	}
	s, _ := newTestStore(t)
	mustCreateKey(t, s, NewKey{Name: "in-the-log", Enabled: true})
	if err := s.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(shell, s.Path(), "SELECT count(*) FROM keys;").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Fatalf("sqlite3: %q, %v", out, err)
	}
	if _, err := os.Stat(s.Path() + "-wal"); err != nil {
		t.Fatalf("the server's log is gone after another process closed the database: %v", err)
	}
}

// TestReadyReportsTheChangeFeed: checks for other processes' changes
// that fail, or stop, are tolerated for a moment; for longer, the store is
// not ready, and says why; the next good check makes it ready again.
func TestReadyReportsTheChangeFeed(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	if _, err := s.ReloadIfChanged(ctx); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.ReloadIfChanged(cancelled); err == nil {
		t.Fatal("a check with a cancelled context succeeded")
	}
	clock.Advance(changeFeedGrace)
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("not ready within the grace: %v", err)
	}
	clock.Advance(time.Second)
	if err := s.Ready(ctx); err == nil || !strings.Contains(err.Error(), "change feed") {
		t.Fatalf("ready while changes have gone unread: %v", err)
	}
	if _, err := s.ReloadIfChanged(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("not ready after a good check: %v", err)
	}
}
