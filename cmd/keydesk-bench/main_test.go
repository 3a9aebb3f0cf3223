package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/keydesk/keydesk/internal/pgtest"
)

// TestMain is also the server at rest that the bench starts in a process
// of its own (see memoryAtRest): the bench's tests run this binary again.
func TestMain(m *testing.M) {
	if atRestMain(context.Background()) {
		return
	}
	os.Exit(m.Run())
}

// The bench at a tiny size, with one load per page, on a file and in a
// schema of a PostgreSQL database, which it drops after: the table has
// every row, and every row a figure. Budgets are not judged here: at this
// size and this few loads they say nothing.
func TestBenchTable(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a database and serves it")
	}
	t.Run("sqlite", func(t *testing.T) { checkBenchTable(t) })
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.URL(t)
		db, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		schemas := func() (n int) {
			t.Helper()
			if err := db.QueryRow(`SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'bench\_%'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := schemas()
		checkBenchTable(t, "-postgres", url)
		if after := schemas(); after != before {
			t.Errorf("%d schemas of the bench before, %d after", before, after)
		}
	})
}

// checkBenchTable runs the bench with more args and checks its table.
func checkBenchTable(t *testing.T, more ...string) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"-sizes", "2000", "-orgs", "20", "-runs", "1", "-warmups", "0",
		"-sort-runs", "1", "-sorts", "name,uses", "-bulk", "300"}, more...), &out, io.Discard)
	if err != nil && !errors.Is(err, errOverBudget) {
		t.Fatal(err)
	}
	rows := tableRows(t, out.String())
	want := []string{
		"seed: 20 organizations",
		"database file (MB)",
		"database pages in use (MB)",
		"resident memory at rest",
		"first page /keys (full / htmx, ms)",
		"q=ckou (full / htmx, ms)",
		"q=okka (full / htmx, ms)",
		"no filter, 4 orders × 3 searches, full page (median / max, ms)",
		"no filter, 4 orders × 3 searches, htmx (median / max, ms)",
		"status=available (full",
		"status=unavailable (full",
		"status=soon (full",
		"status=disabled (full",
		"status=disabled & q=ckou (full",
		"status=disabled & q=okka (full",
		"status=disabled, 4 orders × 3 searches, htmx",
		"permission=securemail (full",
		"org=large subtree (full",
		"org=small leaf (full",
		"status=available&permission=securemail (full",
		"status=soon&permission=securemail&org=large & q=okka (full",
		"status=soon&permission=securemail&org=large, 4 orders × 3 searches, full page",
		"middle page",
		"last page",
		"q=e (1 character)",
		"q=z (1 character",
		"q=ck (2 characters)",
		"q=ck&status=soon&permission=securemail",
		"audit log: first page",
		"audit log: q=checkout (full",
		"audit log: q=quokka",
		"audit log: action=key.created (full",
		"audit log: action=login.succeeded",
		"audit log: actor=seed (full",
		"audit log: actor=bench",
		"audit log: from=to=the day of the seeding",
		"audit log: from=to=a day without events",
		"CSV of every key: wall time (s)",
		"CSV of every key: resident memory growth (MB)",
		"API: GET /api/v1/apikeys?limit=1000, first page / the next (ms)",
		"API: POST /api/v1/apikeys, one client in turn (keys/s)",
		"API: POST /api/v1/apikeys, 4 clients at once (keys/s)",
		"bulk revoke of 300 keys (s)",
		"another user's pages during the bulk revoke",
		"bulk delete of 300 keys (s)",
		"another user's pages during the bulk delete",
	}
	for _, w := range want {
		found := false
		for name := range rows {
			found = found || strings.HasPrefix(name, w)
		}
		if !found {
			t.Errorf("no row %q in\n%s", w, out.String())
		}
	}
	for name, cell := range rows {
		for _, v := range strings.Split(cell, " / ") {
			n, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64)
			switch {
			case err != nil:
				t.Errorf("%s: %q is not a number", name, cell)
			case n < 0, n == 0 && !strings.Contains(name, "growth"):
				t.Errorf("%s: %q, want a positive figure", name, cell)
			}
		}
	}
	if !strings.Contains(out.String(), "slowest order of status=soon: /keys?") {
		t.Errorf("the slowest orders are not named:\n%s", out.String())
	}
}

// A budget of a rate is a floor; of a time or a size, a ceiling, scaled
// per million keys when it says so.
func TestBudgetKeeps(t *testing.T) {
	for _, c := range []struct {
		b    budget
		v    float64
		keys int
		want bool
	}{
		{apiCreateBudget, 499, 1e6, false},
		{apiCreateBudget, 500, 1e6, true},
		{apiListBudget, 50, 1e6, true},
		{apiListBudget, 51, 1e6, false},
		{seedBudget, 7, 100_000, false}, // 60 s per million: 6 s at 100,000
		{seedBudget, 59, 1e6, true},
		{noBudget("ms"), 1e9, 1e6, true},
	} {
		if got := c.b.keeps(c.v, c.keys); got != c.want {
			t.Errorf("%v keeps %v at %d keys: %v, want %v", c.b, c.v, c.keys, got, c.want)
		}
	}
}

// tableRows returns the figure column of each row of the table, by name.
func tableRows(t *testing.T, out string) map[string]string {
	t.Helper()
	rows := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if !strings.HasPrefix(line, "| ") || len(cells) != 5 || cells[0] == "figure" || cells[0] == "---" {
			continue
		}
		rows[cells[0]] = cells[1]
	}
	if len(rows) == 0 {
		t.Fatalf("no table in\n%s", out)
	}
	return rows
}
