package store

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/keydesk/keydesk/internal/pgtest"
)

// engineEnv names the engine a run of the store's tests uses: unset for
// SQLite, "postgres" for the PostgreSQL half, which TestMain runs beside
// the SQLite half in a process of its own.
const engineEnv = "KEYDESK_TEST_ENGINE"

var onPostgres = os.Getenv(engineEnv) == "postgres"

// TestMain runs the tests on SQLite and, when pgtest.Env names a server,
// on PostgreSQL at the same time, in a child process with engineEnv set:
// newTestStore opens each test's store on the engine of its process. The
// PostgreSQL half mostly waits on its server, so the two halves together
// take little longer than the slower one. Its output follows the SQLite
// half's.
func TestMain(m *testing.M) {
	if onPostgres || flagSet("test.fuzz") || flagSet("test.bench") {
		os.Exit(m.Run())
	}
	if os.Getenv(pgtest.Env) == "" {
		code := m.Run()
		if os.Getenv("CI") == "true" {
			fmt.Printf("store: %s is not set: CI runs the PostgreSQL half of the tests\n", pgtest.Env)
			os.Exit(1)
		}
		fmt.Printf("store: PostgreSQL half skipped: set %s to a postgres:// URL to run it\n", pgtest.Env)
		os.Exit(code)
	}
	var out bytes.Buffer
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), engineEnv+"=postgres")
	cmd.Stdout, cmd.Stderr = &out, &out
	started := cmd.Start()
	code := m.Run()
	fmt.Printf("store: the PostgreSQL half (%d tests not on PostgreSQL yet: see notOnPostgresYet)\n", len(notOnPostgresYet))
	if started != nil {
		fmt.Println(started)
		os.Exit(1)
	}
	err := cmd.Wait()
	os.Stdout.Write(out.Bytes())
	if err != nil {
		code = max(code, 1)
	}
	os.Exit(code)
}

func flagSet(name string) bool {
	f := flag.Lookup(name)
	return f != nil && f.Value.String() != ""
}

// testDatabase is where newTestStore opens a test's store: a file in the
// test's folder, or a schema of its own in the PostgreSQL half.
func testDatabase(t testing.TB) string {
	skipIfNotPorted(t)
	if onPostgres {
		return pgtest.URL(t)
	}
	return t.TempDir() + "/keydesk.db"
}

// sqliteOnly skips, in the PostgreSQL half, a test of what only the SQLite
// engine has: its file, its migrations, its query planner.
func sqliteOnly(t testing.TB, what string) {
	t.Helper()
	if onPostgres {
		t.Skip("SQLite's own: " + what)
	}
}

// notOnPostgresYet are the tests whose store queries do not all run on
// PostgreSQL yet, by area: the PostgreSQL half skips them, saying so,
// and TestMain counts them. Each port of an area takes its tests off.
var notOnPostgresYet = func() map[string]string {
	areas := map[string][]string{
		"the change feed (LISTEN/NOTIFY to come)": {"TestReadyReportsTheChangeFeed"},
	}
	out := map[string]string{}
	for area, tests := range areas {
		for _, name := range tests {
			out[name] = area
		}
	}
	return out
}()

// skipIfNotPorted skips, in the PostgreSQL half, a test in
// notOnPostgresYet.
func skipIfNotPorted(t testing.TB) {
	t.Helper()
	top, _, _ := strings.Cut(t.Name(), "/")
	if area, ok := notOnPostgresYet[top]; ok && onPostgres {
		t.Skip("not on PostgreSQL yet: " + area)
	}
}

// TestPostgresIsRefusedOutsideTheTests: until every query runs on
// PostgreSQL, the command line's --db takes no postgres:// URL.
func TestPostgresIsRefusedOutsideTheTests(t *testing.T) {
	for _, open := range []func(context.Context, string) (*Store, error){Open, OpenExisting} {
		if _, err := open(context.Background(), "postgres://keydesk@localhost/keydesk"); !errors.Is(err, errNoPostgresYet) {
			t.Fatalf("a postgres:// URL: %v", err)
		}
	}
}

// TestInstancesWriteOneAtATime: two stores on one PostgreSQL database,
// as two instances are, create keys for one user at once under a policy
// of three keys per user; the check and the write of each creation run
// as one, so exactly three are made, whichever store made them.
func TestInstancesWriteOneAtATime(t *testing.T) {
	if !onPostgres {
		t.Skip("instances share a PostgreSQL database; SQLite's file has one server")
	}
	ctx := context.Background()
	url := testDatabase(t)
	var stores [2]*Store
	for i := range stores {
		s, err := open(ctx, url, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	orgs, err := stores[0].Orgs(ctx, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stores[0].SetOrgPolicy(ctx, testActor, orgs[0].ID, Policy{APIKeysEnabled: true, MaxKeysPerUser: 3}); err != nil {
		t.Fatal(err)
	}
	sam := Actor{UserID: 42, Username: "sam"}
	var made atomic.Int64
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			_, _, err := stores[i%2].CreateKey(ctx, sam, NewKey{Name: fmt.Sprintf("key-%d", i), Permissions: []string{"chat"}, Capacity: 1, Frequency: 1})
			switch {
			case err == nil:
				made.Add(1)
			case ErrorCode(err) != EINVALID:
				t.Errorf("key-%d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if made.Load() != 3 {
		t.Fatalf("%d keys made under a policy of 3 per user", made.Load())
	}
}
