package main

import (
	"bytes"
	"context"
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

func TestUserCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "users.db")
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
