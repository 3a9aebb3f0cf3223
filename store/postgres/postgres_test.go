package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/keydesk/keydesk/internal/pgtest"
	"github.com/keydesk/keydesk/store/sqlite"
)

func open(t *testing.T, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestOpenMigratesAnEmptyDatabase: the schema is made, with what the
// SQLite engine's migrations put in it: the root organization, the
// built-in roles and their rights, the first permissions.
func TestOpenMigratesAnEmptyDatabase(t *testing.T) {
	db := open(t, pgtest.URL(t))
	ctx := context.Background()
	_, numbers, err := migrationFiles()
	if err != nil {
		t.Fatal(err)
	}
	if db.Version != numbers[len(numbers)-1] {
		t.Fatalf("schema version %d, want %d", db.Version, numbers[len(numbers)-1])
	}
	if err := db.Check(ctx, "keys"); err != nil {
		t.Fatal(err)
	}
	if down := db.DownSince(); !down.IsZero() {
		t.Fatalf("a database nobody listens to is down since %v", down)
	}
	var publicID, path string
	if err := db.Reader.QueryRowContext(ctx, "SELECT public_id, path FROM organizations WHERE id = 1 AND parent_id IS NULL").Scan(&publicID, &path); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[a-z0-9]{16}$`).MatchString(publicID) || path != "/1/" {
		t.Fatalf("root organization %q at %q", publicID, path)
	}
	rights := map[string]string{}
	rows, err := db.Reader.QueryContext(ctx, `SELECT r.name, string_agg(rr.right_name, ' ' ORDER BY rr.right_name)
		FROM roles r JOIN role_rights rr ON rr.role_id = r.id WHERE r.builtin = 1 GROUP BY r.name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var role, list string
		if err := rows.Scan(&role, &list); err != nil {
			t.Fatal(err)
		}
		rights[role] = list
	}
	want := map[string]string{
		"Administrator": "apikeys.create apikeys.delete apikeys.read apikeys.reveal apikeys.update apikeys.view audit.view orgs.manage settings.manage users.manage",
		"Key manager":   "apikeys.create apikeys.delete apikeys.read apikeys.update apikeys.view",
		"Viewer":        "apikeys.read apikeys.view",
	}
	if fmt.Sprint(rights) != fmt.Sprint(want) {
		t.Fatalf("built-in roles %v, want %v", rights, want)
	}
	// New rows take the next ids, after those the migration gave.
	var role, org int64
	if err := db.Writer.QueryRowContext(ctx, "INSERT INTO roles (name, name_fold, created_at, updated_at) VALUES ('Auditor', 'auditor', 0, 0) RETURNING id").Scan(&role); err != nil || role != 4 {
		t.Fatalf("a new role got id %d, %v", role, err)
	}
	if err := db.Writer.QueryRowContext(ctx, "INSERT INTO organizations (parent_id, name, public_id, name_fold, path) VALUES (1, 'Acme', 'a', 'acme', '') RETURNING id").Scan(&org); err != nil || org != 2 {
		t.Fatalf("a new organization got id %d, %v", org, err)
	}
}

// TestSchemaHasTheSQLiteTables: every table of the SQLite engine's schema
// is in PostgreSQL's too, with the same columns, but for what each
// engine's search keeps: SQLite's full-text tables, PostgreSQL's words of
// each event (events.terms).
func TestSchemaHasTheSQLiteTables(t *testing.T) {
	db := open(t, pgtest.URL(t))
	pg := columnsByTable(t, db.Reader, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name <> 'keydesk_schema'
			AND (table_name, column_name) <> ('events', 'terms') AND table_name <> 'rate_limits'
		ORDER BY table_name, column_name`)
	lite := sqliteColumns(t)
	for table, columns := range lite {
		if !slices.Equal(pg[table], columns) {
			t.Errorf("table %s: PostgreSQL has columns %v, SQLite %v", table, pg[table], columns)
		}
	}
	for table := range pg {
		if _, ok := lite[table]; !ok {
			t.Errorf("table %s is in PostgreSQL's schema only", table)
		}
	}
}

var registerSQLite sync.Once

// sqliteColumns migrates a new SQLite file and lists its tables' columns,
// leaving out the full-text search's.
func sqliteColumns(t *testing.T) map[string][]string {
	t.Helper()
	ctx := context.Background()
	registerSQLite.Do(func() { sqlite.Register("sqlite3_schema_test", keydeskFuncsForSchema()...) })
	db, err := sqlite.Open(ctx, "sqlite3_schema_test", t.TempDir()+"/schema.db", true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return columnsByTable(t, db.Reader, `SELECT m.name, p.name FROM sqlite_schema m, pragma_table_xinfo(m.name) p
		WHERE m.type = 'table' AND m.sql NOT LIKE 'CREATE VIRTUAL TABLE%' AND m.name NOT LIKE 'sqlite_%'
			AND m.name NOT LIKE '%search%' ORDER BY m.name, p.name`)
}

// columnsByTable runs a query of tables and their columns, in order, and
// gathers each table's columns.
func columnsByTable(t *testing.T, db *sql.DB, query string) map[string][]string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			t.Fatal(err)
		}
		out[table] = append(out[table], column)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// keydeskFuncsForSchema stands in for the store's SQL functions, which
// SQLite's migrations call to fill in the rows they change: an empty
// database has none, but the views that call them must resolve.
func keydeskFuncsForSchema() []sqlite.Func {
	text := func(args ...string) string { return strings.Join(args, " ") }
	var funcs []sqlite.Func
	for _, name := range []string{"keydesk_sort_name", "keydesk_key_words", "keydesk_key_terms", "keydesk_word_suffixes", "keydesk_event_terms"} {
		funcs = append(funcs, sqlite.Func{Name: name, Impl: text, Pure: true})
	}
	return append(funcs, sqlite.Func{Name: "keydesk_public_id", Impl: func() string { return "0123456789abcdef" }})
}

// TestInstancesStartingAtOnceMigrateOnce: four instances open an empty
// database at once; each waits on the migration lock, one migrates, and
// the others find the schema made.
func TestInstancesStartingAtOnceMigrateOnce(t *testing.T) {
	dsn := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := Open(context.Background(), dsn)
			if err == nil {
				err = db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	db := open(t, dsn)
	var roles, versions int
	if err := db.Reader.QueryRow("SELECT (SELECT count(*) FROM roles), (SELECT count(*) FROM keydesk_schema)").Scan(&roles, &versions); err != nil {
		t.Fatal(err)
	}
	if roles != 3 || versions != 1 {
		t.Fatalf("%d built-in roles and %d schema versions after four openings, want 3 and 1", roles, versions)
	}
}

// TestRefusesANewerSchema: a database that a newer Keydesk migrated
// further is left alone.
func TestRefusesANewerSchema(t *testing.T) {
	dsn := pgtest.URL(t)
	db := open(t, dsn)
	if _, err := db.Writer.Exec("UPDATE keydesk_schema SET version = version + 1"); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), dsn)
	if err == nil || !strings.Contains(err.Error(), "newer Keydesk") {
		t.Fatalf("opening a newer schema: %v", err)
	}
	var version int
	if err := db.Reader.QueryRow("SELECT version FROM keydesk_schema").Scan(&version); err != nil || version != db.Version+1 {
		t.Fatalf("version %d after the refusal, %v", version, err)
	}
}

// TestMessagesHideThePassword: an unreachable server is named in the
// error without the password of its URL.
func TestMessagesHideThePassword(t *testing.T) {
	_, err := Open(context.Background(), "postgres://keydesk:s3cret-pw@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err == nil || strings.Contains(err.Error(), "s3cret-pw") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("error %v", err)
	}
}

// TestMigrationsAreNumbered: every migration file starts with its number,
// and no two share one.
func TestMigrationsAreNumbered(t *testing.T) {
	names, numbers, err := migrationFiles()
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := fs.ReadDir(migrations, "migrations")
	if len(names) != len(entries) || !slices.IsSorted(numbers) || len(slices.Compact(slices.Clone(numbers))) != len(numbers) {
		t.Fatalf("migrations %v numbered %v", names, numbers)
	}
}
