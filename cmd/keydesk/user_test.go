package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keydesk/keydesk/store"
)

func runWith(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(stdin), &out, io.Discard)
	return out.String(), err
}

// newDatabase makes a database as the first serve does.
func newDatabase(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "users.db")
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	return db
}

func TestUserCommands(t *testing.T) {
	db := newDatabase(t)
	if _, err := runWith(t, "a long enough password\n", "user", "add", "--db", db, "--username", "Rescue", "--role", "administrator", "--name", "Rescue Admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := runWith(t, "another long password\n", "user", "passwd", "rescue", "--db", db); err != nil {
		t.Fatal(err)
	}
	out, err := runWith(t, "", "user", "list", "--db", db)
	if err != nil || !strings.Contains(out, "rescue") || !strings.Contains(out, "Administrator") || !strings.Contains(out, "Rescue Admin") {
		t.Fatalf("list: %q, %v", out, err)
	}
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Authenticate(context.Background(), "rescue", "another long password"); err != nil {
		t.Fatal("the new password does not log in")
	}
	for _, bad := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"a long enough password\n", []string{"user", "add", "--db", db, "--username", "x1", "--role", "Janitor"}, "no role"},
		{"short\n", []string{"user", "add", "--db", db, "--username", "x2", "--role", "Viewer"}, "at least 12"},
		{"", []string{"user", "add", "--db", db, "--username", "x3", "--role", "Viewer"}, "no password"},
		{"a long enough password\n", []string{"user", "passwd", "ghost", "--db", db}, "no user"},
		{"", []string{"user", "add", "--db", db, "--password", "x"}, "flag provided but not defined"},
		{"", []string{"user"}, "needs a command"},
	} {
		_, err := runWith(t, bad.stdin, bad.args...)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: %v, want %q", bad.args, err, bad.want)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		out, err := runWith(t, "", args...)
		if err != nil || !strings.Contains(out, "keydesk seed") || !strings.Contains(out, "keydesk user") {
			t.Errorf("%v: %q, %v", args, out, err)
		}
	}
	if _, err := runWith(t, "", "seed", "--db", filepath.Join(t.TempDir(), "x.db")); err == nil || !strings.Contains(err.Error(), "--keys") {
		t.Fatalf("seed without --keys: %v", err)
	}
}

// TestUnlockAndPasswdClearFailures: both are the way back in for a user
// whose failed logins hold them back.
func TestUnlockAndPasswdClearFailures(t *testing.T) {
	db := newDatabase(t)
	if _, err := runWith(t, "a long enough password\n", "user", "add", "--db", db, "--username", "boss", "--role", "Administrator"); err != nil {
		t.Fatal(err)
	}
	// lockedOut fails logins as boss from one address until it waits, and
	// reports whether it still waits when called again with the right
	// password.
	lockedOut := func(fail bool, password string) bool {
		t.Helper()
		st, err := store.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		at := store.Actor{ClientAddr: "203.0.113.7"}
		for i := 0; fail && i < store.LoginFreeFailures; i++ {
			st.Login(context.Background(), at, "boss", "a guessed password")
		}
		_, err = st.Login(context.Background(), at, "boss", password)
		var tooMany *store.TooManyFailures
		if err != nil && !errors.As(err, &tooMany) {
			t.Fatal(err)
		}
		return tooMany != nil
	}
	if !lockedOut(true, "a long enough password") {
		t.Fatal("five failures did not throttle the address")
	}
	out, err := runWith(t, "", "user", "unlock", "boss", "--db", db)
	if err != nil || out != "Cleared 5 failed logins of boss.\n" {
		t.Fatalf("unlock: %q, %v", out, err)
	}
	if lockedOut(false, "a long enough password") {
		t.Fatal("unlock left boss throttled")
	}
	if !lockedOut(true, "a long enough password") {
		t.Fatal("five failures did not throttle the address")
	}
	if _, err := runWith(t, "the next long password\n", "user", "passwd", "boss", "--db", db); err != nil {
		t.Fatal(err)
	}
	if lockedOut(false, "the next long password") {
		t.Fatal("passwd left boss throttled")
	}
	for _, args := range [][]string{{"user", "unlock", "ghost", "--db", db}, {"user", "unlock", "--db", db}} {
		if _, err := runWith(t, "", args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	if out, _ := runWith(t, "", "help"); !strings.Contains(out, "unlock") {
		t.Fatal("the help does not mention unlock")
	}
}

func TestUserCommandsNeedADatabase(t *testing.T) {
	typo := filepath.Join(t.TempDir(), "typo.db")
	for _, args := range [][]string{{"user", "list", "--db", typo}, {"user", "unlock", "admin", "--db", typo}} {
		if _, err := runWith(t, "", args...); err == nil || !strings.Contains(err.Error(), "no database at") {
			t.Errorf("%v: %v", args, err)
		}
	}
	if _, err := runWith(t, "a long enough password\n", "user", "add", "--db", typo, "--username", "x", "--role", "Viewer"); err == nil {
		t.Error("user add created a database")
	}
}

// TestUserListPrintsNothingRaw stores a display name with an escape
// sequence and a direction override, as a database from before the text
// rule may hold: the list shows them escaped.
func TestUserListPrintsNothingRaw(t *testing.T) {
	db := newDatabase(t)
	if _, err := runWith(t, "a long enough password\n", "user", "add", "--db", db, "--username", "eve", "--role", "Viewer", "--name", "Eve"); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite3", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE users SET display_name = ? WHERE username = 'eve'`, "Eve\x1b[2J\u202egro.live"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	out, err := runWith(t, "", "user", "list", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(out, "\x1b\u202e") || !strings.Contains(out, `Eve\x1b[2J\u202egro.live`) {
		t.Fatalf("list printed %q", out)
	}
}

func TestUserAddTakesAnOrganization(t *testing.T) {
	db := newDatabase(t)
	st, err := store.OpenExisting(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	acme, err := st.CreateOrg(context.Background(), store.SystemActor("test"), "Acme", "")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runWith(t, "a long enough password\n", "user", "add", "--db", db, "--username", "tenant", "--role", "Viewer", "--org", "Default/Acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := runWith(t, "a long enough password\n", "user", "add", "--db", db, "--username", "lost", "--role", "Viewer", "--org", "Nowhere"); err == nil || !strings.Contains(err.Error(), "no organization") {
		t.Fatalf("an unknown organization: %v", err)
	}
	st, err = store.OpenExisting(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	users, err := st.Users(context.Background(), store.Scope{}, "tenant")
	if err != nil || len(users) != 1 || users[0].OrgID != acme.ID {
		t.Fatalf("tenant: %+v, %v", users, err)
	}
}
