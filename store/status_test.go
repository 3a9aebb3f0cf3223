package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

type seeded struct {
	key    Key
	secret string
}

// TestEveryViewOfStatusAgrees seeds a key in every state around every
// boundary (expired a second ago, expiring now and in a second, at the end
// of the soon window and either side of it, never; enabled or not; revoked
// or not) and checks that each status filter, the status sort and
// verification agree with Key.Status for every key.
func TestEveryViewOfStatusAgrees(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	now := clock.now
	expiries := map[string]time.Duration{
		"past": -time.Second, "now": 0, "next": time.Second,
		"soonEnd-1": SoonWindow - time.Second, "soonEnd": SoonWindow, "soonEnd+1": SoonWindow + time.Second,
	}
	var keys []seeded
	for name, d := range map[string]time.Duration{"never": -1, "past": 0, "now": 0, "next": 0, "soonEnd-1": 0, "soonEnd": 0, "soonEnd+1": 0} {
		for _, enabled := range []bool{true, false} {
			for _, revoked := range []bool{false, true} {
				in := NewKey{Name: fmt.Sprintf("%s-%v-%v", name, enabled, revoked), Enabled: enabled}
				if d != -1 {
					// Created with a future expiry, then moved into place
					// as the clock would move.
					in.ExpiresAt = now.Add(expiries[name] + 24*time.Hour)
				}
				k, secret := mustCreateKey(t, s, in)
				if revoked {
					if _, err := s.RevokeKey(ctx, testActor, k.ID); err != nil {
						t.Fatal(err)
					}
				}
				keys = append(keys, seeded{secret: secret, key: k})
			}
		}
	}
	// And in an organization whose API keys are switched off.
	dark, err := s.CreateOrg(ctx, testActor, "Dark", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"never", "soonEnd-1", "past"} {
		for _, enabled := range []bool{true, false} {
			in := NewKey{Name: fmt.Sprintf("dark-%s-%v", name, enabled), Enabled: enabled, Org: dark.ID}
			if name != "never" {
				in.ExpiresAt = now.Add(expiries[name] + 24*time.Hour)
			}
			k, secret := mustCreateKey(t, s, in)
			keys = append(keys, seeded{secret: secret, key: k})
		}
	}
	if _, err := s.SetOrgPolicy(ctx, testActor, dark.ID, Policy{APIKeysEnabled: false}); err != nil {
		t.Fatal(err)
	}
	// Everything expires a day later than planned, so move the clock a day.
	clock.Advance(24 * time.Hour)
	now = clock.now
	for i := range keys {
		k, err := s.Key(ctx, Scope{}, keys[i].key.ID)
		if err != nil {
			t.Fatal(err)
		}
		keys[i].key = k
	}

	// The statuses themselves, for keys whose facts compete.
	for name, want := range map[string]Status{
		"past-true-true": StatusRevoked, "past-false-false": StatusExpired, "now-true-false": StatusExpired,
		"next-false-false": StatusDisabled, "next-true-false": StatusSoon, "soonEnd-true-false": StatusSoon,
		"soonEnd+1-true-false": StatusAvailable, "never-true-false": StatusAvailable, "never-false-true": StatusRevoked,
		"dark-never-true": StatusOrgOff, "dark-soonEnd-1-false": StatusOrgOff, "dark-past-true": StatusExpired,
	} {
		i := slices.IndexFunc(keys, func(k seeded) bool { return k.key.Name == name })
		if got := keys[i].key.Status(now); got != want {
			t.Errorf("%s: status %s, want %s", name, got, want)
		}
	}

	// Both ways of listing (reading candidates, walking an index) agree.
	defer setReadCaps(50_000)()
	for _, cap := range []int{50_000, 0} {
		setReadCaps(cap)
		checkStatusViews(t, s, now, keys)
	}
	// With no organization switched off, the queries leave that fact out.
	if _, err := s.SetOrgPolicy(ctx, testActor, dark.ID, Policy{APIKeysEnabled: true}); err != nil {
		t.Fatal(err)
	}
	lit := slices.Clone(keys)
	for i := range lit {
		if lit[i].key, err = s.Key(ctx, Scope{}, lit[i].key.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, cap := range []int{50_000, 0} {
		setReadCaps(cap)
		checkStatusViews(t, s, now, lit)
	}
	if _, err := s.SetOrgPolicy(ctx, testActor, dark.ID, Policy{APIKeysEnabled: false}); err != nil {
		t.Fatal(err)
	}
	// A status that contradicts a filter is never read for it, and one
	// that a matching key has always is.
	for _, k := range keys {
		for _, f := range StatusFilters {
			if f.Matches(k.key, now) && !admits([]StatusFilter{f}, k.key.Status(now)) {
				t.Errorf("%s (%s) matches %s, which rules its status out", k.key.Name, k.key.Status(now), f)
			}
		}
	}
	if admits([]StatusFilter{FilterAvailable}, StatusRevoked) || admits([]StatusFilter{FilterDisabled}, StatusSoon) ||
		admits([]StatusFilter{FilterUnavailable}, StatusDisabled) || !admits([]StatusFilter{FilterSoon, FilterUnavailable}, StatusExpired) {
		t.Error("admits does not rule out what the facts rule out")
	}

	want := map[Status]string{StatusAvailable: "", StatusSoon: "", StatusDisabled: CodeDisabled, StatusOrgOff: CodeOrgDisabled,
		StatusExpired: CodeExpired, StatusRevoked: CodeRevoked}
	for _, k := range keys {
		v, err := s.CheckKey(ctx, Scope{}, k.secret, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if st := k.key.Status(now); v.Code != want[st] || v.Valid != (want[st] == "") {
			t.Errorf("%s (%s): verification says %+v", k.key.Name, st, v)
		}
	}
}

// checkStatusViews checks the status filters, alone and with the status
// sort, against Key.Status and StatusFilter.Matches.
func checkStatusViews(t *testing.T, s *Store, now time.Time, keys []seeded) {
	t.Helper()
	ctx := context.Background()
	for _, f := range StatusFilters {
		page, err := s.Keys(ctx, Scope{}, KeyQuery{KeyFilter: KeyFilter{Statuses: []StatusFilter{f}}, Sort: SortName, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, k := range page.Keys {
			got = append(got, k.Name)
		}
		for _, k := range keys {
			if f.Matches(k.key, now) {
				want = append(want, k.key.Name)
			}
		}
		slices.SortFunc(want, func(a, b string) int { return compareSortNames(a, b) })
		if !slices.Equal(got, want) {
			t.Errorf("filter %s:\n got %q\nwant %q", f, got, want)
		}
		if len(want) == 0 || len(want) == len(keys) {
			t.Errorf("filter %s selects %d of %d keys: the seeds do not test it", f, len(want), len(keys))
		}
	}
	// The filters as the console describes them.
	for _, k := range keys {
		st := k.key.Status(now)
		usable := !k.key.Revoked() && !k.key.Expired(now)
		if FilterAvailable.Matches(k.key, now) != usable || FilterUnavailable.Matches(k.key, now) == usable ||
			FilterDisabled.Matches(k.key, now) != (usable && (!k.key.Enabled || k.key.OrgOff)) ||
			(st == StatusSoon && !FilterSoon.Matches(k.key, now)) {
			t.Errorf("%s (%s): filters disagree with the status", k.key.Name, st)
		}
	}

	for _, filters := range [][]StatusFilter{nil, {FilterAvailable}, {FilterUnavailable}, {FilterSoon, FilterDisabled}} {
		var wantNames []string
		for _, k := range keys {
			if len(filters) == 0 || slices.ContainsFunc(filters, func(f StatusFilter) bool { return f.Matches(k.key, now) }) {
				wantNames = append(wantNames, k.key.Name)
			}
		}
		for _, desc := range []bool{false, true} {
			page, err := s.Keys(ctx, Scope{}, KeyQuery{KeyFilter: KeyFilter{Statuses: filters}, Sort: SortStatus, Desc: desc, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			ranks := make([]int, len(page.Keys))
			var names []string
			for i, k := range page.Keys {
				ranks[i] = int(k.Status(now))
				names = append(names, k.Name)
			}
			if desc {
				slices.Reverse(ranks)
			}
			slices.Sort(names)
			slices.Sort(wantNames)
			if !slices.IsSorted(ranks) || !slices.Equal(names, wantNames) {
				t.Errorf("status sort desc=%v of %v gives ranks %v, %d keys, want %d", desc, filters, ranks, len(names), len(wantNames))
			}
		}
	}
}

// compareSortNames orders names as the list's name sort does.
func compareSortNames(a, b string) int {
	switch sa, sb := sortName(a), sortName(b); {
	case sa < sb:
		return -1
	case sa > sb:
		return 1
	}
	return 0
}
