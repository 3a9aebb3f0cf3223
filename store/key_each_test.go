package store

import (
	"context"
	"reflect"
	"testing"
)

// TestEachKeyReadsKeysAsKeysDoes proves that the export's reading of each
// key's organization, once per organization, gives every key exactly what
// the list gives it: the organization's id and path, and whether API keys
// are off there or above (at the organization itself, and inherited by an
// organization below it).
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
			mustCreateKey(t, s, NewKey{Name: name, Org: org})
		}
	}
	if _, err := s.SetOrgPolicy(ctx, testActor, dark.ID, Policy{APIKeysEnabled: false}); err != nil {
		t.Fatal(err)
	}
	page, err := s.Keys(ctx, Scope{}, KeyQuery{Sort: SortName, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []Key
	if _, err := s.EachKey(ctx, Scope{}, KeyFilter{}, SortName, false, func(k Key) error {
		got = append(got, k)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, page.Keys) {
		t.Fatalf("EachKey:\n%+v\nKeys:\n%+v", got, page.Keys)
	}
	off := 0
	for _, k := range got {
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
