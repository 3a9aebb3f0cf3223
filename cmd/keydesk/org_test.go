package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keydesk/keydesk/store"
)

func TestOrgCommands(t *testing.T) {
	db := newDatabase(t)
	lastLine := func(out string) string {
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		return lines[len(lines)-1]
	}
	out, err := runWith(t, "", "org", "add", "--db", db, "--name", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	acme := lastLine(out)
	for _, parent := range []string{"Acme", "Default/Acme", acme} {
		name := "EU-" + strings.ReplaceAll(parent, "/", "-")
		out, err := runWith(t, "", "org", "add", "--db", db, "--name", name, "--parent", parent)
		if err != nil {
			t.Fatalf("--parent %s: %v", parent, err)
		}
		if !strings.Contains(out, "Default/Acme/"+name) {
			t.Fatalf("--parent %s: %q", parent, out)
		}
	}

	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	o, err := st.Org(context.Background(), store.Scope{}, acme)
	if err != nil || o.Path != "Default/Acme" {
		t.Fatalf("the last line %q is not the new organization's id: %+v, %v", acme, o, err)
	}
	if _, _, err := st.CreateKey(context.Background(), store.SystemActor("test"), store.NewKey{Name: "k", Permissions: []string{"chat"}, Enabled: true, Capacity: 1, Frequency: 1, Org: acme}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out, err = runWith(t, "", "org", "list", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 || strings.Join(strings.Fields(lines[0]), " ") != "ID PATH KEYS USERS" {
		t.Fatalf("list:\n%s", out)
	}
	if got := strings.Fields(lines[2]); len(got) != 4 || got[0] != acme || got[1] != "Default/Acme" || got[2] != "1" || got[3] != "0" {
		t.Fatalf("Acme's row: %q", lines[2])
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"org", "add", "--db", db}, "--name is required"},
		{[]string{"org", "add", "--db", db, "--name", "X", "--parent", "Nowhere"}, "no organization"},
		{[]string{"org", "add", "--db", db, "--name", "acme"}, "already an organization"},
		{[]string{"org", "add", "--db", db, "--name", "A/B"}, "cannot contain /"},
		{[]string{"org", "add", "--db", filepath.Join(t.TempDir(), "missing.db"), "--name", "X"}, "no database"},
		{[]string{"org", "move", "--db", db}, "unknown org command"},
		{[]string{"org"}, "needs a command"},
	} {
		_, err := runWith(t, "", bad.args...)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: %v, want %q", bad.args, err, bad.want)
		}
	}
	// Nothing refused was added.
	out, _ = runWith(t, "", "org", "list", "--db", db)
	if n := len(strings.Split(strings.TrimSpace(out), "\n")); n != 6 {
		t.Fatalf("%d lines after refusals:\n%s", n, out)
	}
}
