package store

import (
	"context"
	"strings"
	"testing"
)

// TestWildcardPermissions: a key's permission ending in ":*" grants every
// permission under the rest, in verification too, and nothing beside it.
func TestWildcardPermissions(t *testing.T) {
	held := []string{"nexus:cluster:*", "chat"}
	for asked, want := range map[string]bool{
		"nexus:cluster:admin": true, "nexus:cluster:read:all": true, "chat": true,
		"nexus:clusters": false, "nexus:cluster:": false, "nexus:cluster": false, "nexus:consumer:chat": false, "chatter": false,
	} {
		if got := Grants(held, asked); got != want {
			t.Errorf("Grants(%v, %q) = %v", held, asked, got)
		}
	}
	for name, ok := range map[string]bool{"nexus:cluster:*": true, "nexus:consumer:chat": true, "*": false, "a*": false, ":*": false, "a:*:b": false} {
		if got := PermissionNameProblem(name) == ""; got != ok {
			t.Errorf("PermissionNameProblem(%q) allows it: %v", name, got)
		}
	}
	s, _ := newTestStore(t)
	ctx := context.Background()
	if _, err := s.CreatePermission(ctx, testActor, Permission{Name: "nexus:cluster:*", Description: "Everything of the cluster."}); err != nil {
		t.Fatal(err)
	}
	_, secret := mustCreateKey(t, s, NewKey{Name: "cluster", Enabled: true, Permissions: []string{"nexus:cluster:*"}})
	for asked, want := range map[string]string{"nexus:cluster:admin": "", "nexus:consumer:chat": CodePermissionDenied} {
		if v, err := s.VerifyKey(ctx, secret, asked, ""); err != nil || v.Code != want {
			t.Fatalf("asking %s: %+v, %v", asked, v, err)
		}
	}
	// The list's permission filter finds the keys it grants to.
	for _, name := range []string{"nexus:cluster:admin", "nexus:consumer:chat"} {
		if _, err := s.CreatePermission(ctx, testActor, Permission{Name: name, Description: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	mustCreateKey(t, s, NewKey{Name: "admin-only", Enabled: true, Permissions: []string{"nexus:cluster:admin"}})
	mustCreateKey(t, s, NewKey{Name: "consumer", Enabled: true, Permissions: []string{"nexus:consumer:chat"}})
	page, err := s.Keys(ctx, Scope{}, KeyQuery{KeyFilter: KeyFilter{Permission: "nexus:cluster:admin"}, Sort: SortName})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range page.Keys {
		names = append(names, k.Name)
	}
	if strings.Join(names, ",") != "admin-only,cluster" || page.Total != 2 {
		t.Fatalf("keys granted nexus:cluster:admin: %v (%d)", names, page.Total)
	}
}
