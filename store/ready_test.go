package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReady(t *testing.T) {
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
			if _, err := s.EachKey(ctx, KeyFilter{}, SortName, false, func(Key) error { return nil }); err != nil {
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
