package main

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keydesk/keydesk/jobs"
	"github.com/keydesk/keydesk/store"
)

// scheduledKeys makes a database with n keys due for rotation a day after
// now, and returns its path and the master key, as base64.
func scheduledKeys(t *testing.T, n int) (db, master string) {
	t.Helper()
	ctx := context.Background()
	db = filepath.Join(t.TempDir(), "keydesk.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range n {
		_, _, err := st.CreateKey(ctx, store.SystemActor("test"), store.NewKey{
			Name: "scheduled " + strings.Repeat("x", i%3) + time.Duration(i).String(), Permissions: []string{"chat"},
			Enabled: true, Capacity: 1, Frequency: 1, RotateEveryDays: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return db, store.GenerateMasterKey()
}

// rotationsPerKey counts each key's rotation events.
func rotationsPerKey(t *testing.T, db string) map[string]int {
	t.Helper()
	conn, err := sql.Open(store.DriverName, "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(`SELECT k.public_id, (SELECT count(*) FROM events e WHERE e.target_id = k.public_id AND e.action = 'key.rotated') FROM keys k`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	return out
}

// TestScheduledRotationSurvivesAKill: `keydesk jobs run` killed with
// SIGKILL in the middle of rotating a batch leaves every key rotated once
// or not at all; the next run rotates the rest, and a third run nothing.
func TestScheduledRotationSurvivesAKill(t *testing.T) {
	const n = 1500
	db, master := scheduledKeys(t, n)
	at := time.Now().Add(49 * time.Hour).UTC().Format(time.RFC3339)
	cmd := exec.Command(os.Args[0], "jobs", "run", "--db", db, "--at", at)
	cmd.Env = append(os.Environ(), "KEYDESK_TEST_RUN_MAIN=1", "KEYDESK_MASTER_KEY="+master)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once some keys are rotated, long before all are.
	deadline := time.Now().Add(60 * time.Second)
	for {
		done := 0
		for _, c := range rotationsPerKey(t, db) {
			done += c
		}
		if done >= 50 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no rotation within a minute:\n%s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	rotated := 0
	for id, c := range rotationsPerKey(t, db) {
		if c > 1 {
			t.Fatalf("key %s rotated %d times before the kill", id, c)
		}
		rotated += c
	}
	if rotated == n {
		t.Fatalf("the run finished all %d keys before it was killed: the test proves nothing", n)
	}
	t.Logf("killed after %d of %d rotations", rotated, n)

	// The dead run's claim holds the job until its lease lapses; runs
	// after that finish the work, then find nothing left.
	start, _ := time.Parse(time.RFC3339, at)
	for run, step := range []struct {
		after time.Duration
		want  string
	}{
		{jobs.DefaultLease, "rotate: " + store.Thousands(n-rotated) + " keys rotated"},
		{jobs.DefaultLease + 2*time.Minute, "rotate: nothing to do"},
	} {
		e, out := testEnv(map[string]string{"KEYDESK_MASTER_KEY": master})
		when := start.Add(step.after).Format(time.RFC3339)
		if err := e.jobs(context.Background(), []string{"run", "--db", db, "--at", when}); err != nil {
			t.Fatalf("run %d: %v", run+2, err)
		}
		if !strings.Contains(out.String(), step.want) {
			t.Fatalf("run %d said %q, want %q", run+2, out.String(), step.want)
		}
	}
	for id, c := range rotationsPerKey(t, db) {
		if c != 1 {
			t.Fatalf("key %s rotated %d times in all, want once", id, c)
		}
	}
}

// TestRekey: every kept secret moves to a new master key that replaces the
// key file, the old one kept beside it; the secrets show the same after.
func TestRekey(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "keydesk.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	e, out := testEnv(nil)
	if err := e.useMasterKey(ctx, st, keyFile("", db), slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(db + ".key"); err == nil {
		t.Fatal("the key file was made before any secret was kept")
	}
	vault, err := st.CreateOrg(ctx, store.SystemActor("test"), "Vault", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetOrgPolicy(ctx, store.SystemActor("test"), vault.ID, store.Policy{APIKeysEnabled: true, RecoverableKeys: true}); err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctx, store.SystemActor("test"), store.NewUser{Username: "pat", Password: "a long enough password", RoleID: store.RoleAdministrator})
	if err != nil {
		t.Fatal(err)
	}
	k, secret, err := st.CreateKey(ctx, store.SystemActor("test"), store.NewKey{Name: "kept", Permissions: []string{"chat"}, Capacity: 1, Frequency: 1, Org: vault.ID})
	if err != nil {
		t.Fatal(err)
	}
	old, _, err := store.ReadMasterKeyFile(db+".key", false)
	if err != nil {
		t.Fatalf("the key file after the first kept secret: %v", err)
	}
	st.Close()

	if err := e.rekey(ctx, []string{"--db", db}); err != nil {
		t.Fatal(err)
	}
	next, _, err := store.ReadMasterKeyFile(db+".key", false)
	if err != nil || next.ID() == old.ID() || !strings.Contains(out.String(), "Moved 1 kept secrets from master key "+old.ID()+" to "+next.ID()) {
		t.Fatalf("after rekey: %v, %s", err, out)
	}
	oldPath := db + ".key." + old.ID() + ".old"
	if prev, _, err := store.ReadMasterKeyFile(oldPath, false); err != nil || prev.ID() != old.ID() {
		t.Fatalf("the previous key file: %v", err)
	}
	st, err = store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := e.useMasterKey(ctx, st, keyFile("", db), slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	r, err := st.RevealKey(ctx, store.Actor{UserID: u.ID, Username: "pat"}, k.ID, "a long enough password")
	if err != nil || r.Secret != secret {
		t.Fatalf("reveal after rekey: %q, %v", r.Secret, err)
	}
	// With the old key only, nothing shows, and the server says why.
	var logged bytes.Buffer
	old64, _ := os.ReadFile(oldPath)
	e2, _ := testEnv(map[string]string{"KEYDESK_MASTER_KEY": string(old64)})
	if err := e2.useMasterKey(ctx, st, keyFile("", db), slog.New(slog.NewTextHandler(&logged, nil))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logged.String(), "SOME KEPT SECRETS CANNOT BE SHOWN") || !strings.Contains(logged.String(), next.ID()) {
		t.Fatalf("the log with the old key: %s", logged.String())
	}
	if _, err := st.RevealKey(ctx, store.Actor{UserID: u.ID, Username: "pat"}, k.ID, "a long enough password"); store.ErrorCode(err) != store.ECONFLICT {
		t.Fatalf("reveal with the old key: %v", err)
	}
	st.Close()

	// Cut off between its renames, a rekey finishes when run again; with
	// a server holding the database, it refuses to start.
	os.Rename(db+".key", db+".key.new")
	if err := e.rekey(ctx, []string{"--db", db}); err != nil || !strings.Contains(out.String(), "Finished a rekey that was cut off") {
		t.Fatalf("resuming: %v\n%s", err, out)
	}
	if again, _, err := store.ReadMasterKeyFile(db+".key", false); err != nil || again.ID() != next.ID() {
		t.Fatalf("the key file after resuming: %v", err)
	}
	lock, err := store.LockServer(db)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	if err := e.rekey(ctx, []string{"--db", db}); err == nil || !strings.Contains(err.Error(), "stop the server") {
		t.Fatalf("a rekey beside a server: %v", err)
	}
}

// TestServeWithoutTheMasterKey: a server whose key file is gone starts,
// says so loudly, and verifies keys.
func TestServeWithoutTheMasterKey(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "keydesk.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := testEnv(nil)
	if err := e.useMasterKey(ctx, st, keyFile("", db), slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	root := store.Policy{APIKeysEnabled: true, RecoverableKeys: true}
	orgs, _ := st.Orgs(ctx, store.Scope{})
	if _, err := st.SetOrgPolicy(ctx, store.SystemActor("test"), orgs[0].ID, root); err != nil {
		t.Fatal(err)
	}
	_, secret, err := st.CreateKey(ctx, store.SystemActor("test"), store.NewKey{Name: "kept", Permissions: []string{"chat"}, Enabled: true, Capacity: 5, Frequency: 1})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	os.Remove(db + ".key")

	var logged bytes.Buffer
	st, err = store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := e.useMasterKey(ctx, st, keyFile("", db), slog.New(slog.NewTextHandler(&logged, nil))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logged.String(), "NO MASTER KEY") || !strings.Contains(logged.String(), "kept_secrets=1") {
		t.Fatalf("the log: %s", logged.String())
	}
	if _, err := os.Stat(db + ".key"); err == nil {
		t.Fatal("a new key file was made while secrets are kept under the lost one")
	}
	if v, err := st.VerifyKey(ctx, secret, "", ""); err != nil || !v.Valid {
		t.Fatalf("verification without the master key: %+v, %v", v, err)
	}
}
