// Package pgtest gives tests a PostgreSQL database of their own, in the
// server that KEYDESK_TEST_POSTGRES names; and the load test and the
// bench a schema of their own in any database (NewSchema).
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"net"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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
	url, drop, err := NewSchema(context.Background(), base, "test_")
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Errorf("drop the test's schema: %v", err)
		}
	})
	return url
}

// EngineEnv names the engine of a test process: unset for SQLite,
// "postgres" for the PostgreSQL half, which Both runs in a child process.
const EngineEnv = "KEYDESK_TEST_ENGINE"

// OnPostgres reports whether this test process is the PostgreSQL half.
func OnPostgres() bool { return os.Getenv(EngineEnv) == "postgres" }

// Database is where a test opens its store: a file in the test's folder,
// or in the PostgreSQL half a schema of its own (see URL).
func Database(t testing.TB) string {
	if OnPostgres() {
		return URL(t)
	}
	return filepath.Join(t.TempDir(), "keydesk.db")
}

// Both runs a package's tests (run, which returns the exit code) on
// SQLite and, when Env names a server, at the same time on PostgreSQL, in
// a child process with EngineEnv set, whose output follows; it returns
// the exit code of both. The PostgreSQL half mostly waits on its server,
// so the two take little longer than the slower one. Without Env it says
// that the half is skipped; in CI (CI=true) it fails instead. A fuzz or
// benchmark run, and the child itself, run once.
func Both(pkg string, run func() int) int {
	flag.Parse()
	if OnPostgres() || flagSet("test.fuzz") || flagSet("test.bench") {
		return run()
	}
	if os.Getenv(Env) == "" {
		code := run()
		if os.Getenv("CI") == "true" {
			fmt.Printf("%s: %s is not set: CI runs the PostgreSQL half of the tests\n", pkg, Env)
			return 1
		}
		fmt.Printf("%s: PostgreSQL half skipped: set %s to a postgres:// URL to run it\n", pkg, Env)
		return code
	}
	var out bytes.Buffer
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), EngineEnv+"=postgres")
	cmd.Stdout, cmd.Stderr = &out, &out
	started := cmd.Start()
	code := run()
	fmt.Printf("%s: the PostgreSQL half\n", pkg)
	if started != nil {
		fmt.Println(started)
		return 1
	}
	err := cmd.Wait()
	os.Stdout.Write(out.Bytes())
	if err != nil {
		code = max(code, 1)
	}
	return code
}

func flagSet(name string) bool {
	f := flag.Lookup(name)
	return f != nil && f.Value.String() != ""
}

// Proxy passes connections to the server that url names through a
// listener of its own, and returns url pointed at it, and cut, which
// closes every connection it passes and refuses the next ones: a
// database that went out of reach.
func Proxy(t testing.TB, url string) (proxied string, cut func()) {
	t.Helper()
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		open  []net.Conn
		isCut bool
	)
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if isCut {
				mu.Unlock()
				client.Close()
				continue
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				mu.Unlock()
				client.Close()
				continue
			}
			open = append(open, client, server)
			mu.Unlock()
			go func() { io.Copy(server, client); server.Close() }()
			go func() { io.Copy(client, server); client.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	cut = func() {
		mu.Lock()
		defer mu.Unlock()
		isCut = true
		for _, c := range open {
			c.Close()
		}
	}
	u.Host = ln.Addr().String()
	return u.String(), cut
}

// NewSchema makes an empty schema, named prefix and a random part, in the
// database at url, and returns a URL whose every connection works in it
// and a function that drops it with everything in it: for tests, and the
// load test and the bench, which share one database without seeing each
// other's tables.
// The extension that the migrations need is made once, in public, so
// that it outlives the schema: made in the schema, it would go with it,
// and take the indexes of other schemas along.
func NewSchema(ctx context.Context, url, prefix string) (schemaURL string, drop func() error, err error) {
	u, err := neturl.Parse(url)
	if err != nil {
		return "", nil, err
	}
	admin, err := sql.Open("pgx", url)
	if err != nil {
		return "", nil, err
	}
	if _, err := admin.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"); err != nil {
		var made bool // by another process, at the same time
		if admin.QueryRowContext(ctx, "SELECT true FROM pg_extension WHERE extname = 'pg_trgm'").Scan(&made); !made {
			admin.Close()
			return "", nil, fmt.Errorf("make the extension pg_trgm: %w", err)
		}
	}
	schema := prefix + strings.ToLower(rand.Text()[:12])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("make a schema: %w", err)
	}
	// pgx sends search_path when it connects.
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() error {
		defer admin.Close()
		_, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		return err
	}, nil
}
