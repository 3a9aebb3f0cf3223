package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keydesk/keydesk/jobs"
	"github.com/keydesk/keydesk/store"
)

// TestMain lets a test run this binary as the program itself: with
// KEYDESK_TEST_RUN_MAIN=1 it is keydesk, not the tests.
func TestMain(m *testing.M) {
	if os.Getenv("KEYDESK_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func testEnv(vars map[string]string) (env, *bytes.Buffer) {
	var out bytes.Buffer
	return env{
		getenv: func(k string) string { return vars[k] },
		stdin:  strings.NewReader(""),
		stdout: &out,
		stderr: io.Discard,
	}, &out
}

// startServer runs the console on a free loopback port until the test ends.
func startServer(t *testing.T, e env, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- e.serve(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), ready) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case addr := <-ready:
		return "http://" + addr
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not start")
	}
	return ""
}

func TestServeCreatesTheFirstAdministrator(t *testing.T) {
	db := filepath.Join(t.TempDir(), "keydesk.db")
	e, out := testEnv(nil)
	url := startServer(t, e, "--db", db)
	res, err := http.Get(url + "/healthz")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	m := regexp.MustCompile(`admin, password (\S+)`).FindStringSubmatch(out.String())
	if m == nil || !strings.Contains(out.String(), "Keydesk is running at "+url) {
		t.Fatalf("output:\n%s", out)
	}
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Authenticate(context.Background(), "admin", m[1]); err != nil {
		t.Fatalf("the printed password does not log in: %v", err)
	}
}

func TestServeTakesThePasswordFromTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	e, out := testEnv(map[string]string{
		"KEYDESK_DB":             filepath.Join(dir, "env.db"),
		"KEYDESK_ADMIN_PASSWORD": "from-the-environment",
	})
	startServer(t, e)
	if strings.Contains(out.String(), "from-the-environment") {
		t.Fatal("the password was printed")
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "env.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Authenticate(context.Background(), "admin", "from-the-environment"); err != nil {
		t.Fatal(err)
	}
}

func TestServeRefusesAWeakAdminPassword(t *testing.T) {
	e, _ := testEnv(map[string]string{"KEYDESK_ADMIN_PASSWORD": "short"})
	err := e.serve(context.Background(), []string{"--db", filepath.Join(t.TempDir(), "k.db"), "--addr", "127.0.0.1:0"}, nil)
	if err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Fatalf("err = %v", err)
	}
}

func TestSeedAndBackup(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "seed.db")
	var out bytes.Buffer
	getenv := func(string) string { return "" }
	if err := run(context.Background(), []string{"seed", "--db", db, "--keys", "250"}, getenv, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "copy.db")
	if err := run(context.Background(), []string{"backup", "--db", db, "--out", copyPath}, getenv, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), copyPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	page, err := st.Keys(context.Background(), store.Scope{}, store.KeyQuery{Sort: store.SortName, Limit: 1})
	if err != nil || page.Total != 250 {
		t.Fatalf("backup holds %d keys, %v", page.Total, err)
	}
	if err := run(context.Background(), []string{"backup", "--db", db, "--out", copyPath}, getenv, nil, &out, io.Discard); err == nil {
		t.Fatal("backup overwrote an existing file")
	}
}

func TestUnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"frobnicate"}, os.Getenv, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "Usage") {
		t.Fatalf("err = %v", err)
	}
}

func TestJobsRunInTheBackground(t *testing.T) {
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "prune.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	st.Now = func() time.Time { return now.AddDate(0, 0, -10) }
	if _, err := st.CreateUser(context.Background(), store.SystemActor("test"), store.NewUser{Username: "old", Password: "long enough password", RoleID: store.RoleViewer}); err != nil {
		t.Fatal(err)
	}
	st.Now = func() time.Time { return now }
	if err := st.SetEventRetention(context.Background(), store.SystemActor("test"), 7); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		r := &jobs.Runner{Store: st, Jobs: jobs.Standard(st, jobs.Deps{Owner: "test"}), Owner: "test", Log: slog.New(slog.DiscardHandler)}
		r.Loop(ctx, 10*time.Millisecond)
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		page, err := st.Events(context.Background(), store.Scope{}, store.EventQuery{Limit: 1})
		if err == nil && len(page.Events) == 1 && page.Events[0].Action == store.ActionEventsPruned {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the old event was not pruned")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
}

func TestServeReturnsWhenItCannotServe(t *testing.T) {
	e, _ := testEnv(nil)
	done := make(chan error, 1)
	go func() {
		done <- e.serve(context.Background(), []string{"--db", filepath.Join(t.TempDir(), "k.db"), "--addr", "127.0.0.1:0",
			"--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"}, nil)
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("serve with a missing certificate succeeded")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve hangs after failing to start")
	}
}

// TestJobsRunAsOfAnotherDay: a run as of a day to come leaves every job
// due now, so that the server beside it does not wait for that day.
func TestJobsRunAsOfAnotherDay(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "keydesk.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	e, out := testEnv(nil)
	var warned bytes.Buffer
	e.stderr = &warned
	later := time.Now().AddDate(0, 0, 10).UTC().Format(time.DateOnly)
	if err := e.jobs(ctx, []string{"run", "--db", db, "--at", later}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "rotate: nothing to do") {
		t.Fatalf("the run said %q", out.String())
	}
	if msg := warned.String(); !strings.Contains(msg, "Running as of") || !strings.Contains(msg, "deleted now") {
		t.Fatalf("no warning of a run as of a day to come: %q", msg)
	}
	if st, err = store.Open(ctx, db); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, err := st.Jobs(ctx)
	if err != nil || len(list) == 0 {
		t.Fatalf("jobs %v, %v", list, err)
	}
	for _, j := range list {
		if j.NextRun.After(time.Now()) {
			t.Fatalf("after a run as of %s, %s is next due %v", later, j.Name, j.NextRun)
		}
	}
}

// TestCopyCommand: keydesk copy moves an installation to a new database
// and shows each table's rows; into one that holds keys already, or onto
// itself, it refuses.
func TestCopyCommand(t *testing.T) {
	dir := t.TempDir()
	from, to := filepath.Join(dir, "from.db"), filepath.Join(dir, "to.db")
	st, err := store.Open(context.Background(), from)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := st.CreateKey(context.Background(), store.SystemActor("test"), store.NewKey{Name: "moving", Permissions: []string{"chat"}, Enabled: true, Capacity: 1, Frequency: 1})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"copy", "--from", from, "--to", to}, os.Getenv, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^ *keys +1 *$`).MatchString(out.String()) || !strings.Contains(out.String(), "every table holds as many rows in both") {
		t.Fatalf("output:\n%s", out.String())
	}
	copied, err := store.OpenExisting(context.Background(), to)
	if err != nil {
		t.Fatal(err)
	}
	defer copied.Close()
	if v, err := copied.VerifyKey(context.Background(), secret, "", ""); err != nil || !v.Valid {
		t.Fatalf("the copied key: %+v, %v", v, err)
	}
	for _, args := range [][]string{{"--from", from, "--to", to}, {"--from", from, "--to", from}} {
		err := run(context.Background(), append([]string{"copy"}, args...), os.Getenv, nil, io.Discard, io.Discard)
		if err == nil {
			t.Errorf("copy %v succeeded", args)
		}
	}
}
