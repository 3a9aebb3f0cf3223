package store

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// seedSwitchedOff seeds keys over organizations with a random seed, and
// switches API keys off in the organization at index off: a tree with
// every status in it.
func seedSwitchedOff(t *testing.T, s *Store, seed uint64, orgs, keys, off int) []Org {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, seed))
	all, err := s.SeedOrgs(ctx, orgs, rng)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SeedKeys(ctx, keys, rng, all...); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetOrgPolicy(ctx, SystemActor("test"), all[off].ID, Policy{APIKeysEnabled: false}); err != nil {
		t.Fatal(err)
	}
	return all
}

// setReadCaps sets how many candidates every part of a filter reads whole
// (0: none, so that every query walks), and returns what restores them.
func setReadCaps(n int) (restore func()) {
	old := readCap
	readCap = n
	return func() { readCap = old }
}

// setProbeCap sets how many candidates of a search a walk tests keys
// against (0: none), and returns what restores it.
func setProbeCap(n int) (restore func()) {
	old := probeCap
	probeCap = n
	return func() { probeCap = old }
}

// keyIDs returns the public ids of keys.
func keyIDs(keys []Key) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids
}

// everyPage reads a query page by page, forward from the first page and
// backward from the last, and fails unless both give the same keys.
func everyPage(t *testing.T, s *Store, q KeyQuery) (ids []string, first KeyPage) {
	t.Helper()
	ctx := context.Background()
	fwd := q
	for i := 0; ; i++ {
		page, err := s.Keys(ctx, Scope{}, fwd)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = page
		}
		ids = append(ids, keyIDs(page.Keys)...)
		if page.Next == "" || i > 10_000 {
			break
		}
		fwd.After = page.Next
	}
	back := q
	back.Last = true
	var backward []string
	for i := 0; ; i++ {
		page, err := s.Keys(ctx, Scope{}, back)
		if err != nil {
			t.Fatal(err)
		}
		backward = append(keyIDs(page.Keys), backward...)
		if page.Prev == "" || i > 10_000 {
			break
		}
		back.Last, back.Before = false, page.Prev
	}
	if !slices.Equal(ids, backward) {
		t.Fatalf("%+v: %d keys forward, %d backward, in another order", q, len(ids), len(backward))
	}
	return ids, first
}

// TestBothWaysOfListingAgree: reading every candidate and walking the sort
// order give the same keys, in the same order, with the same count, for
// every filter and sort; and the export follows the list.
func TestBothWaysOfListingAgree(t *testing.T) {
	if testing.Short() {
		// CI's race run is -short: this walk over every order of thousands
		// of keys starts no goroutine, and the plain run checks it.
		t.Skip("-short: every order of thousands of keys is walked in the plain run")
	}
	s, _ := newTestStore(t)
	ctx := context.Background()
	orgs := seedSwitchedOff(t, s, 11, 8, 1500, 2)
	filters := []KeyFilter{
		{}, {Search: "bill"}, {Search: "o"}, {Search: "ckou eu"}, {Permission: "chat"}, {CreatedBy: "carol"},
		{Org: orgs[1].ID}, {Org: orgs[2].ID, Statuses: []StatusFilter{FilterDisabled}},
		{Statuses: []StatusFilter{FilterAvailable, FilterSoon}}, {Statuses: []StatusFilter{FilterUnavailable, FilterDisabled}},
		{Search: "prod", Statuses: []StatusFilter{FilterDisabled}, Permission: "securemail"},
	}
	for _, st := range StatusFilters {
		filters = append(filters, KeyFilter{Statuses: []StatusFilter{st}})
	}
	defer setReadCaps(50_000)()
	// Pages of 97 keys end and start anywhere; each is a few round trips
	// to PostgreSQL's server, so it reads fewer, longer pages.
	limit := 97
	if onPostgres {
		limit = 397
	}
	for _, f := range filters {
		for sort := range keySorts {
			for _, desc := range []bool{false, true} {
				q := KeyQuery{KeyFilter: f, Sort: sort, Desc: desc, Limit: limit}
				setReadCaps(50_000)
				read, readFirst := everyPage(t, s, q)
				setReadCaps(0)
				walked, walkedFirst := everyPage(t, s, q)
				if !slices.Equal(read, walked) {
					t.Fatalf("%+v by %s desc=%v: reading candidates gives %d keys, walking %d, or another order", f, sort, desc, len(read), len(walked))
				}
				// Parts too broad to read whole, yet few matches: the count
				// finds them, and they are read whole.
				setReadCaps(len(read) + 1)
				counted, countedFirst := everyPage(t, s, q)
				if !slices.Equal(read, counted) || countedFirst.Total != len(read) {
					t.Fatalf("%+v by %s desc=%v: reading the counted matches gives %d keys (count %d), or another order", f, sort, desc, len(counted), countedFirst.Total)
				}
				unprobed := read // PostgreSQL's search lists no candidates to probe
				if !onPostgres {
					restore := setProbeCap(0)
					unprobed, _ = everyPage(t, s, q)
					restore()
				}
				if !slices.Equal(read, unprobed) {
					t.Fatalf("%+v by %s desc=%v: walking without the search's candidates gives %d keys, or another order", f, sort, desc, len(unprobed))
				}
				if readFirst.Total != len(read) || walkedFirst.Total != len(read) || readFirst.More || walkedFirst.More {
					t.Fatalf("%+v: counts %d and %d for %d keys", f, readFirst.Total, walkedFirst.Total, len(read))
				}
				var exported []string
				if _, err := s.EachKey(ctx, Scope{}, f, sort, desc, func(k Key) error {
					exported = append(exported, k.ID)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(read, exported) {
					t.Fatalf("%+v by %s: the export differs from the list", f, sort)
				}
			}
		}
	}
}

// TestCountsStopAtTheCap: beyond CountCap the count says "more", on both
// ways of listing.
func TestCountsStopAtTheCap(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	if err := s.SeedKeys(ctx, CountCap+30, rand.New(rand.NewPCG(5, 5))); err != nil {
		t.Fatal(err)
	}
	defer setReadCaps(50_000)()
	for _, cap := range []int{50_000, 0} {
		setReadCaps(cap)
		for _, f := range []KeyFilter{{}, {Statuses: StatusFilters}, {Search: "-"}} {
			page, err := s.Keys(ctx, Scope{}, KeyQuery{KeyFilter: f, Sort: SortName})
			if err != nil {
				t.Fatal(err)
			}
			n, err := s.EachKey(ctx, Scope{}, f, SortName, false, func(Key) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			if n <= CountCap {
				t.Fatalf("%+v: only %d keys match", f, n)
			}
			if page.Total != CountCap || !page.More {
				t.Fatalf("%+v: %d keys match, the page says %d (more: %v)", f, n, page.Total, page.More)
			}
		}
		// Nothing is nothing.
		page, err := s.Keys(ctx, Scope{}, KeyQuery{KeyFilter: KeyFilter{Search: strings.Repeat("z", 9)}, Sort: SortName})
		if err != nil || page.Total != 0 || page.More {
			t.Fatalf("no match: %d, %v, %v", page.Total, page.More, err)
		}
	}
}

// TestSearchFindsAnySubstring: the search index holds every suffix of
// every word, so a search finds a word's end however long the word, and
// one letter finds a word's last letter; its count agrees with LIKE's.
func TestSearchFindsAnySubstring(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	long := strings.Repeat("a", 40) + "quux" + strings.Repeat("b", 20)
	mustCreateKey(t, s, NewKey{Name: "svc-" + long})
	mustCreateKey(t, s, NewKey{Name: "ends-inq"})
	mustCreateKey(t, s, NewKey{Name: "other"})
	defer setReadCaps(50_000)()
	for _, cap := range []int{50_000, 0} {
		setReadCaps(cap)
		for q, want := range map[string]int{"quux": 1, "aquuxb": 1, "q": 2, "nq": 1, "xyz": 0} {
			page, err := s.Keys(ctx, Scope{}, KeyQuery{KeyFilter: KeyFilter{Search: q}, Sort: SortName})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Keys) != want || page.Total != want {
				t.Errorf("read cap %d, search %q: %d keys, count %d, want %d", cap, q, len(page.Keys), page.Total, want)
			}
		}
	}
}

// TestBroadPartsDriveInRowOrder: when no part of a filter can be read
// whole, the count reads the rows of a part whose index lists its keys by
// id (a permission's, a creator's, the search's) rather than the status's,
// which lists them by expiry, a page at random for each; and of those, the
// search's, whose candidates were counted to the end.
func TestBroadPartsDriveInRowOrder(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	seedSwitchedOff(t, s, 3, 4, 600, 1)
	defer setReadCaps(5)()
	available := []StatusFilter{FilterAvailable}
	for _, c := range []struct {
		f      KeyFilter
		driver string
	}{
		{KeyFilter{Statuses: available, Permission: "chat"}, "key_permissions"},
		{KeyFilter{Statuses: available, CreatedBy: "carol"}, "created_by"},
		{KeyFilter{Statuses: available, Search: "bill"}, "key_search"},
		{KeyFilter{Permission: "chat", Search: "bill"}, "key_search"},
	} {
		if onPostgres && c.driver == "key_search" {
			continue // PostgreSQL's trigram indexes list no candidates
		}
		err := s.read(ctx, func(tx *sql.Tx) error {
			p, err := s.planKeys(ctx, tx, c.f, s.now())
			if err != nil {
				return err
			}
			if p.narrow() {
				t.Fatalf("%+v: %d candidates read whole, over the cap", c.f, p.candidates)
			}
			if !strings.Contains(p.driver, c.driver) {
				t.Errorf("%+v: driven by %s, want the part of %s", c.f, p.driver, c.driver)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestFewMatchesOfBroadPartsAreReadWhole: when every part of a filter has
// more candidates than a plan reads whole, but together they match few
// keys, the count finds them and the page reads them rather than walk the
// order's index for them.
func TestFewMatchesOfBroadPartsAreReadWhole(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	seedSwitchedOff(t, s, 3, 4, 600, 1)
	f := KeyFilter{Statuses: []StatusFilter{FilterAvailable}, Permission: "chat", Search: "bill"}
	all := allPages(t, s, KeyQuery{KeyFilter: f, Sort: SortExpires, Limit: 1000})
	defer setReadCaps(len(all))()
	err := s.read(ctx, func(tx *sql.Tx) error {
		p, err := s.planKeys(ctx, tx, f, s.now())
		if err == nil && p.narrow() {
			t.Fatalf("%d candidates of %s, %d matches: choose a broader filter", p.candidates, p.driver, len(all))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var page KeyPage
	log := recordQueries(func() {
		page, err = s.Keys(ctx, Scope{}, KeyQuery{KeyFilter: f, Sort: SortExpires, Limit: 7})
	})
	if err != nil || page.Total != len(all) || page.More || len(page.Keys) != 7 {
		t.Fatalf("page of %d keys, count %d (more: %v), %v; want 7 of %d", len(page.Keys), page.Total, page.More, err, len(all))
	}
	for _, q := range log {
		if strings.Contains(q.query, "INDEXED BY "+keySorts[SortExpires].index) {
			t.Errorf("walked the order's index for %d matches:\n%s", len(all), q.query)
		}
	}
}
