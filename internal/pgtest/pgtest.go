// Package pgtest gives tests a PostgreSQL database of their own, in the
// server that KEYDESK_TEST_POSTGRES names.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
)

// Env names the database that the PostgreSQL half of the tests uses: a
// postgres:// URL whose user may create schemas in it.
const Env = "KEYDESK_TEST_POSTGRES"

// URL returns the URL of an empty schema of the database that Env names,
// made for t and dropped when it ends, so that tests neither see nor wait
// on each other's tables. Without Env, t is skipped, with a one-line
// reason; in CI (CI=true) it fails instead, since CI provides a server.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI runs the PostgreSQL half of the tests (.ci/run starts a server and sets it)", Env)
		}
		t.Skipf("PostgreSQL half: set %s to a postgres:// URL to run it (.ci/run shows how)", Env)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	schema := "test_" + strings.ToLower(rand.Text()[:12])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The extensions the migrations ask for are made once, in public, so
	// that they outlive every test's schema: an extension made in one
	// would go with it, and take other tests' indexes along.
	if _, err := admin.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"); err != nil {
		var made bool // by a test of another package, at the same time
		if admin.QueryRowContext(ctx, "SELECT true FROM pg_extension WHERE extname = 'pg_trgm'").Scan(&made); !made {
			admin.Close()
			t.Fatalf("%s: make the extension pg_trgm: %v", Env, err)
		}
	}
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("%s: create a schema for the test: %v", Env, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop the test's schema %s: %v", schema, err)
		}
	})
	// pgx sends search_path at connection time, so every connection of
	// every pool works in the test's schema.
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
