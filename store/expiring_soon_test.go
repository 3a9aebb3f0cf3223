package store

import (
	"context"
	"testing"
	"time"
)

// TestExpiringSoonPerScope: the kept answer is each scope's own, and a
// write or the next minute reads it anew.
func TestExpiringSoonPerScope(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	_, acme, _, beta := testOrgs(t, s)
	soon := clock.Now().Add(48 * time.Hour)
	mustCreateKey(t, s, NewKey{Name: "acme-soon", Org: acme.ID, ExpiresAt: soon})
	mustCreateKey(t, s, NewKey{Name: "beta-soon", Org: beta.ID, ExpiresAt: soon})
	total := func(o Org) int {
		t.Helper()
		got, err := s.ExpiringSoon(ctx, orgScope(orgByIDForTest(t, s, o.ID).ids))
		if err != nil {
			t.Fatal(err)
		}
		return got.Total
	}
	whole, err := s.ExpiringSoon(ctx, Scope{})
	if err != nil || whole.Total != 2 {
		t.Fatalf("the whole tree: %+v, %v", whole, err)
	}
	// No write between them: each scope still gets its own count.
	if a, b := total(acme), total(beta); a != 1 || b != 1 {
		t.Fatalf("Acme %d, Beta %d", a, b)
	}
	mustCreateKey(t, s, NewKey{Name: "acme-soon-2", Org: acme.ID, ExpiresAt: soon})
	if a := total(acme); a != 2 {
		t.Fatalf("after a write Acme counts %d", a)
	}
	clock.Advance(47 * time.Hour)
	if a := total(acme); a != 2 {
		t.Fatalf("within the window Acme counts %d", a)
	}
	clock.Advance(2 * time.Hour) // they expired: not "soon" any more
	if a := total(acme); a != 0 {
		t.Fatalf("after they expired Acme counts %d", a)
	}
}
