package main

import (
	"context"
	"strings"
	"testing"

	"github.com/keydesk/keydesk/store"
)

// TestTokenCreate: the command prints a token as its last line, which lets
// in the user it names with the rights it was given; a right the user
// lacks, or no expiry, is refused.
func TestTokenCreate(t *testing.T) {
	db := newDatabase(t)
	if _, err := runWith(t, "a long enough password\n", "user", "add", "--db", db, "--username", "robot", "--role", "key manager"); err != nil {
		t.Fatal(err)
	}
	out, err := runWith(t, "", "token", "create", "--db", db, "--user", "robot", "--name", "deploy", "--rights", "apikeys.view, apikeys.read", "--expires", "30d")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	u, tok, err := st.AuthenticateToken(context.Background(), token)
	st.Close()
	if err != nil || u.Username != "robot" || !u.Can(store.RightKeysRead) || u.Can(store.RightKeysCreate) || tok.Name != "deploy" {
		t.Fatalf("the printed token %q lets in %+v with %v (%v)", token, u.Username, u.Rights, err)
	}
	for _, args := range [][]string{
		{"--rights", "users.manage", "--expires", "30d"}, // not robot's
		{"--rights", "apikeys.read", "--expires", "soon"},
		{"--rights", "apikeys.read", "--expires", "500d"},
	} {
		base := []string{"token", "create", "--db", db, "--user", "robot", "--name", "x"}
		if _, err := runWith(t, "", append(base, args...)...); err == nil {
			t.Fatalf("%v: no error", args)
		}
	}
}
