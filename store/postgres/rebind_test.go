package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"testing"

	"github.com/keydesk/keydesk/internal/pgtest"
)

func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, out, from string }{
		{"SELECT 1", "SELECT 1", "[]"},
		{"SELECT ? + ?", "SELECT $1 + $2", "[{1 } {2 }]"},
		{"SELECT :a, :b, :a", "SELECT $1, $2, $1", "[{0 a} {0 b}]"},
		// Quotes, comments and casts are left alone.
		{"SELECT '?', 'it''s :a', \"q?\", ? -- why?\n", "SELECT '?', 'it''s :a', \"q?\", $1 -- why?\n", "[{1 }]"},
		{"SELECT /* :x ? */ ?::bigint, x::text", "SELECT /* :x ? */ $1::bigint, x::text", "[{1 }]"},
		{"SELECT ? /* unterminated ?", "SELECT $1 /* unterminated ?", "[{1 }]"},
		{"SELECT 'open ?", "SELECT 'open ?", "[]"},
		{"SET a = ?2, b = ?1 WHERE c = ?2", "SET a = $1, b = $2 WHERE c = $1", "[{2 ?2} {1 ?1}]"},
		{"SELECT x FROM keys k INDEXED BY keys_by_name WHERE y", "SELECT x FROM keys k  WHERE y", "[]"},
		{"FROM keys k not indexed\n WHERE notindexed = ?", "FROM keys k \n WHERE notindexed = $1", "[{1 }]"},
		{"SELECT 'INDEXED BY x', indexed_by FROM t", "SELECT 'INDEXED BY x', indexed_by FROM t", "[]"},
		{"WHERE k.id > :p1 AND k.n LIKE :p10 ESCAPE '\\'", "WHERE k.id > $1 AND k.n LIKE $2 ESCAPE '\\'", "[{0 p1} {0 p10}]"},
		// A unary plus that opens a parenthesis goes; a sum stays.
		{"WHERE (+k.enabled = 0 AND x) OR ( +y = 1)", "WHERE (k.enabled = 0 AND x) OR ( y = 1)", "[]"},
		{"SELECT e.id + 0, (a +b), (+1), '(+k'", "SELECT e.id + 0, (a +b), (+1), '(+k'", "[]"},
	} {
		r := rebind(c.in)
		if r.query != c.out || fmt.Sprint(r.from) != c.from {
			t.Errorf("rebind(%q) = %q from %v, want %q from %s", c.in, r.query, r.from, c.out, c.from)
		}
	}
	r := rebind("SELECT :b, ?, :a, ?")
	got, err := r.args([]driver.NamedValue{{Ordinal: 1, Value: "x"}, {Ordinal: 2, Name: "a", Value: "A"}, {Ordinal: 3, Value: "y"}, {Ordinal: 4, Name: "b", Value: "B"}})
	if err != nil || fmt.Sprint(got) != "[{ 1 B} { 2 x} { 3 A} { 4 y}]" {
		t.Fatalf("args = %v, %v", got, err)
	}
	if _, err := r.args([]driver.NamedValue{{Ordinal: 1, Value: "x"}}); err == nil {
		t.Fatal("missing arguments were accepted")
	}
}

// TestPlaceholdersOnTheServer: a query with both kinds of placeholder runs
// on PostgreSQL, prepared or not, and binds each value where it belongs.
func TestPlaceholdersOnTheServer(t *testing.T) {
	db := open(t, pgtest.URL(t))
	ctx := context.Background()
	const query = "SELECT ? || '?' || :name || ? || :name"
	args := []any{"a", sql.Named("name", "N"), "b"}
	var got string
	if err := db.Reader.QueryRowContext(ctx, query, args...).Scan(&got); err != nil || got != "a?NbN" {
		t.Fatalf("query: %q, %v", got, err)
	}
	st, err := db.Reader.PrepareContext(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.QueryRowContext(ctx, args...).Scan(&got); err != nil || got != "a?NbN" {
		t.Fatalf("prepared: %q, %v", got, err)
	}
	if err := db.Reader.QueryRowContext(ctx, "SELECT ?2 || ?1 || ?2", "a", "b").Scan(&got); err != nil || got != "bab" {
		t.Fatalf("numbered: %q, %v", got, err)
	}
	if _, err := db.Writer.ExecContext(ctx, "INSERT INTO settings (name, value) VALUES (?, :v)", "x", sql.Named("v", []byte("1"))); err != nil {
		t.Fatal(err)
	}
}
