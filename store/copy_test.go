package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestCopyBetweenEngines: an installation on SQLite, copied to
// PostgreSQL and from there to another SQLite file, arrives whole: every
// table holds the same rows in both, its keys verify (their previous
// secrets too), its kept secrets open, its searches find, and new rows
// take new ids.
func TestCopyBetweenEngines(t *testing.T) {
	if !onPostgres {
		t.Skip("the PostgreSQL half copies between the engines")
	}
	ctx := context.Background()
	open := func(path string) *Store {
		t.Helper()
		s, err := open(ctx, path, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	lite := open(t.TempDir() + "/from.db")
	master := withMasterKey(t, lite)
	pat := mustCreateUser(t, lite, "pat", RoleAdministrator)
	me := Actor{UserID: pat.ID, Username: "pat"}
	_, acme, eu, _ := testOrgs(t, lite)
	// The organization made last holds the first: a parent with a larger id.
	late, err := lite.CreateOrg(ctx, testActor, "Late", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lite.UpdateOrg(ctx, testActor, acme.ID, acme.Name, late.ID); err != nil {
		t.Fatal(err)
	}
	recoverable := recoverableOrg(t, lite, "Vault", Policy{RecoverableKeys: true})
	kept, _ := mustCreateKey(t, lite, NewKey{Name: "kept-billing", Org: recoverable.ID, Enabled: true})
	rotated, oldSecret := mustCreateKey(t, lite, NewKey{Name: "rotated-checkout", Org: eu.ID, Enabled: true})
	if _, err := lite.RotateKey(ctx, testActor, rotated.ID, 7); err != nil {
		t.Fatal(err)
	}
	_, secret := mustCreateKey(t, lite, NewKey{Name: "plain-search", Enabled: true})
	mustWebhook(t, lite, testActor, NewWebhook{Events: []string{ActionKeyCreated}})
	for range 3 {
		if _, err := lite.VerifyKey(ctx, secret, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := lite.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}

	pg := open(testDatabase(t))
	pg.SetMasterKey(func() (*MasterKey, error) { return master, nil })
	counts, err := lite.CopyTo(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(counts, func(c TableCount) bool { return c.Table == "keys" }); i < 0 || counts[i].Rows != 3 {
		t.Fatalf("counts %v", counts)
	}
	if _, err := lite.CopyTo(ctx, pg); err == nil || !strings.Contains(err.Error(), "new database") {
		t.Fatalf("a second copy into the same database: %v", err)
	}
	back := open(t.TempDir() + "/back.db")
	if _, err := pg.CopyTo(ctx, back); err != nil {
		t.Fatal(err)
	}
	for _, table := range copyTables {
		want := tableRows(t, lite, table)
		for _, c := range []*Store{pg, back} {
			if got := tableRows(t, c, table); !slices.Equal(got, want) {
				t.Errorf("%s in %s: %d rows, want %d\n got %q\nwant %q", table, c.db.Name(), len(got), len(want), got, want)
			}
		}
	}
	for _, c := range []*Store{pg, back} {
		for s, want := range map[string]bool{secret: true, oldSecret: true} {
			if v, err := c.VerifyKey(ctx, s, "", ""); err != nil || v.Valid != want {
				t.Errorf("%s: verify: %+v, %v", c.db.Name(), v, err)
			}
		}
		c.SetMasterKey(func() (*MasterKey, error) { return master, nil })
		if _, err := c.RevealKey(ctx, me, kept.ID, testPassword); err != nil {
			t.Errorf("%s: reveal a kept secret: %v", c.db.Name(), err)
		}
		page, err := c.Keys(ctx, Scope{}, KeyQuery{KeyFilter: KeyFilter{Search: "heckou"}, Sort: SortName})
		if err != nil || page.Total != 1 || page.Keys[0].ID != rotated.ID {
			t.Errorf("%s: the key search: %+v, %v", c.db.Name(), page, err)
		}
		events, err := c.Events(ctx, Scope{}, EventQuery{EventFilter: EventFilter{Search: "rotat"}, Count: true})
		if err != nil || events.Total == 0 {
			t.Errorf("%s: the audit log's search: %+v, %v", c.db.Name(), events, err)
		}
		if k, _ := mustCreateKey(t, c, NewKey{Name: "after-the-copy"}); k.rowID <= rotated.rowID {
			t.Errorf("%s: a new key took row %d", c.db.Name(), k.rowID)
		}
	}
}

// tableRows reads every row of a table, in the columns that both engines
// have, as sorted text.
func tableRows(t *testing.T, s *Store, table string) []string {
	t.Helper()
	ctx := context.Background()
	tx, err := s.reader.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT * FROM `+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	columns, _ := rows.Columns()
	var out []string
	for rows.Next() {
		values := make([]any, len(columns))
		dest := make([]any, len(columns))
		for i := range values {
			dest[i] = &values[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		// The engines' columns come in different orders.
		var fields []string
		for i, v := range values {
			if columns[i] == "terms" { // PostgreSQL's words of an event
				continue
			}
			fields = append(fields, fmt.Sprintf("%s=%v", columns[i], v))
		}
		slices.Sort(fields)
		out = append(out, strings.Join(fields, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestCopyTakesEveryTable: every table of the schema is copied, but for
// SQLite's search tables, which the copy builds.
func TestCopyTakesEveryTable(t *testing.T) {
	sqliteOnly(t, "its schema's list of tables")
	s, _ := newTestStore(t)
	tables, err := allRows(context.Background(), mustTx(t, s), func(r rowScanner) (string, error) {
		var name string
		return name, r.Scan(&name)
	}, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
		AND name NOT LIKE 'key_search%' AND name NOT LIKE 'event_search%' AND name NOT LIKE 'word_search%'
		AND name <> 'search_words' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	if want := slices.Sorted(slices.Values(copyTables)); !slices.Equal(tables, want) {
		t.Fatalf("the schema's tables %v, the copy's %v", tables, want)
	}
}
