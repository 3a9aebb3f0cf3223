package store

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestEachKeyReadsKeysAsKeysDoes proves that the export's reading of each
// key's organization, once per organization, gives every key exactly what
// the list gives it: the organization's id and path, and whether API keys
// are off there or above (at the organization itself, and inherited by an
// organization below it). The export's keys hold what the list shows of
// them and nothing else, whether the export reads its few candidates (a
// search) or sorts every key.
func TestEachKeyReadsKeysAsKeysDoes(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	dark, err := s.CreateOrg(ctx, testActor, "Dark", "")
	if err != nil {
		t.Fatal(err)
	}
	below, err := s.CreateOrg(ctx, testActor, "Below", dark.ID)
	if err != nil {
		t.Fatal(err)
	}
	lit, err := s.CreateOrg(ctx, testActor, "Lit", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, org := range []string{"", dark.ID, below.ID, lit.ID} {
		for _, name := range []string{"a", "b"} {
			k, _ := mustCreateKey(t, s, NewKey{Name: name, Org: org, Capacity: 7, Frequency: 9})
			// Every key changes, so that each field the export leaves out
			// has a value in the list.
			if _, err := s.EnableKey(ctx, testActor, k.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.SetKeyExpiry(ctx, testActor, k.ID, s.now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.RevokeKey(ctx, testActor, k.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.SetOrgPolicy(ctx, testActor, dark.ID, Policy{APIKeysEnabled: false}); err != nil {
		t.Fatal(err)
	}
	page, err := s.Keys(ctx, Scope{}, KeyQuery{Sort: SortName, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]Key, len(page.Keys))
	for i, k := range page.Keys {
		if k.UpdatedAt.IsZero() || k.UpdatedBy == "" || k.EnabledAt.IsZero() || k.EnabledBy == "" || k.ExpirySetAt.IsZero() ||
			k.ExpirySetBy == "" || k.RevokedBy == "" || k.Capacity == 0 || k.Frequency == 0 {
			t.Fatalf("the list leaves a field of %+v empty", k)
		}
		k.UpdatedAt, k.UpdatedBy, k.EnabledAt, k.EnabledBy = time.Time{}, "", time.Time{}, ""
		k.ExpirySetAt, k.ExpirySetBy, k.RevokedBy, k.Capacity, k.Frequency, k.UseCount = time.Time{}, "", "", 0, 0, 0
		want[i] = k
	}
	var got []Key
	// The empty filter sorts every key; the search for "a" reads its
	// candidates.
	for _, f := range []KeyFilter{{}, {Search: "a"}} {
		got = got[:0]
		if _, err := s.EachKey(ctx, Scope{}, f, SortName, false, func(k Key) error {
			got = append(got, k)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if f.Search != "" {
			want = slices.DeleteFunc(want, func(k Key) bool { return k.Name != "a" })
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("EachKey(%+v):\n%+v\nKeys:\n%+v", f, got, want)
		}
	}
	off := 0
	for _, k := range page.Keys {
		if k.OrgOff != (k.OrgID == dark.ID || k.OrgID == below.ID) {
			t.Errorf("key %s of %s: OrgOff %v", k.Name, k.OrgID, k.OrgOff)
		}
		if k.OrgOff {
			off++
		}
	}
	if off != 4 {
		t.Errorf("%d keys with their organization off, want 4", off)
	}
}
