package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// allPages walks a query forward page by page and returns the names seen.
func allPages(t *testing.T, s *Store, q KeyQuery) []string {
	t.Helper()
	var names []string
	for i := 0; ; i++ {
		page, err := s.Keys(context.Background(), Scope{}, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range page.Keys {
			names = append(names, k.Name)
		}
		if page.Next == "" {
			return names
		}
		if i > 1000 {
			t.Fatal("paging does not end")
		}
		q.After = page.Next
	}
}

// columnOrders compares two keys as the list's order by one column does,
// before its tie-breaker.
var columnOrders = map[KeySort]func(a, b Key) int{
	SortPermissions: func(a, b Key) int {
		return strings.Compare(strings.Join(a.Permissions, " "), strings.Join(b.Permissions, " "))
	},
	SortEnabled: func(a, b Key) int { return cmp.Compare(boolInt(a.Enabled), boolInt(b.Enabled)) },
	SortExpires: func(a, b Key) int {
		never := func(k Key) bool { return k.ExpiresAt.IsZero() }
		if c := cmp.Compare(boolInt(never(a)), boolInt(never(b))); c != 0 {
			return c // a key that never expires after every date
		}
		return a.ExpiresAt.Compare(b.ExpiresAt)
	},
	SortCreatedBy: func(a, b Key) int { return strings.Compare(a.CreatedBy, b.CreatedBy) },
	SortCreated:   func(a, b Key) int { return a.CreatedAt.Compare(b.CreatedAt) },
	SortLastUsed:  func(a, b Key) int { return a.LastUsedAt.Compare(b.LastUsedAt) },
	SortUses:      func(a, b Key) int { return cmp.Compare(a.UseCount, b.UseCount) },
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestKeysetPagingVisitsEveryKeyOnce(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	var want []Key
	for i := 0; i < 137; i++ {
		in := NewKey{Name: fmt.Sprintf("key-%03d", rng.IntN(1000)*1000+i), Enabled: i%5 != 0}
		// Many keys share their sort value, so the tie-breakers matter.
		if i%3 == 0 {
			in.ExpiresAt = clock.now.Add(time.Duration(1+i%4) * 24 * time.Hour)
		}
		if i%2 == 0 {
			in.Permissions = []string{"chat", "securemail"}
		}
		k, _ := mustCreateKey(t, s, in)
		want = append(want, k)
		if i%10 == 0 {
			clock.Advance(time.Second)
		}
	}
	for sort := range keySorts {
		for _, desc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s desc=%v", sort, desc), func(t *testing.T) {
				got := allPages(t, s, KeyQuery{Sort: sort, Desc: desc, Limit: 20})
				if len(got) != len(want) {
					t.Fatalf("saw %d keys, want %d", len(got), len(want))
				}
				seen := map[string]bool{}
				for _, n := range got {
					if seen[n] {
						t.Fatalf("%s seen twice", n)
					}
					seen[n] = true
				}
				// One page with every key gives the reference order.
				full, err := s.Keys(ctx, Scope{}, KeyQuery{Sort: sort, Desc: desc, Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				var ref []string
				for _, k := range full.Keys {
					ref = append(ref, k.Name)
				}
				if !slices.Equal(got, ref) {
					t.Fatalf("paged order differs from the one-page order")
				}
				// Every order but the name's and the status's is its
				// column's, ties in the order the keys were created in;
				// descending reverses both.
				if by, ok := columnOrders[sort]; ok {
					oracle := slices.Clone(want) // in the order of creation
					slices.SortStableFunc(oracle, by)
					if desc {
						slices.Reverse(oracle)
					}
					for i, k := range oracle {
						if ref[i] != k.Name {
							t.Fatalf("position %d is %s, want %s", i, ref[i], k.Name)
						}
					}
				}
			})
		}
	}
	// Name order is case-insensitive and natural.
	page, _ := s.Keys(ctx, Scope{}, KeyQuery{Sort: SortName, Limit: 1000})
	if !slices.IsSortedFunc(page.Keys, func(a, b Key) int { return strings.Compare(sortName(a.Name), sortName(b.Name)) }) {
		t.Fatal("not sorted by name")
	}
}

// TestNamesSortNaturally lists names with numbers in them: digits compare
// as numbers, letters without regard to case, in both directions and
// across pages.
func TestNamesSortNaturally(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	want := []string{"apac-2", "apac-9", "APAC-10", "apac-11", "apac-100", "apac-100a", "apac-100b", "billing",
		"billing_1", "billing_2", "Billing_10", "v1.2", "v1.10", "v10.1", "z-123456789012345678901234"}
	for _, i := range rand.Perm(len(want)) {
		mustCreateKey(t, s, NewKey{Name: want[i]})
	}
	for _, desc := range []bool{false, true} {
		var got []string
		q := KeyQuery{Sort: SortName, Desc: desc, Limit: 4}
		for {
			page, err := s.Keys(ctx, Scope{}, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range page.Keys {
				got = append(got, k.Name)
			}
			if page.Next == "" {
				break
			}
			q.After = page.Next
		}
		w := slices.Clone(want)
		if desc {
			slices.Reverse(w)
		}
		if !slices.Equal(got, w) {
			t.Errorf("desc=%v:\n got %q\nwant %q", desc, got, w)
		}
	}
}

func TestSortNameMatchesTheMigration(t *testing.T) {
	sqliteOnly(t, "the migration's SQL function")
	s, _ := newTestStore(t)
	for _, name := range []string{"", "a", "A-007", "x99y00z", "ünïcode 12", strings.Repeat("9", 30)} {
		var got string
		if err := s.writer.QueryRow(`SELECT keydesk_sort_name(?)`, name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != sortName(name) {
			t.Errorf("SQL %q, Go %q", got, sortName(name))
		}
	}
	if a, b := sortName("a-007"), sortName("A-7"); a != b {
		t.Errorf("leading zeros and case should not matter: %q, %q", a, b)
	}
}

func TestPagingBackwards(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	for i := 0; i < 45; i++ {
		mustCreateKey(t, s, NewKey{Name: fmt.Sprintf("k%02d", i)})
	}
	p1, _ := s.Keys(ctx, Scope{}, KeyQuery{Sort: SortName, Limit: 20})
	p2, _ := s.Keys(ctx, Scope{}, KeyQuery{Sort: SortName, Limit: 20, After: p1.Next})
	p3, _ := s.Keys(ctx, Scope{}, KeyQuery{Sort: SortName, Limit: 20, After: p2.Next})
	if p1.Prev != "" || p2.Prev == "" || len(p3.Keys) != 5 || p3.Next != "" || p1.Total != 45 {
		t.Fatalf("pages: prev %q, %d keys last, next %q, total %d", p1.Prev, len(p3.Keys), p3.Next, p1.Total)
	}
	back, err := s.Keys(ctx, Scope{}, KeyQuery{Sort: SortName, Limit: 20, Before: p3.Prev})
	if err != nil {
		t.Fatal(err)
	}
	if back.Keys[0].Name != "k20" || back.Keys[19].Name != "k39" || back.Next == "" || back.Prev == "" {
		t.Fatalf("back to page 2: %s…%s prev %q next %q", back.Keys[0].Name, back.Keys[19].Name, back.Prev, back.Next)
	}
	first, _ := s.Keys(ctx, Scope{}, KeyQuery{Sort: SortName, Limit: 20, Before: back.Prev})
	if first.Keys[0].Name != "k00" || first.Prev != "" {
		t.Fatalf("back to page 1: starts %s, prev %q", first.Keys[0].Name, first.Prev)
	}
}

func TestTamperedQueriesAreRefused(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	for _, q := range []KeyQuery{
		{Sort: "name; DROP TABLE keys"},
		{Sort: SortName, After: "not-a-cursor"},
		{Sort: SortName, After: "WyJhIl0"},  // ["a"]: too few values
		{Sort: SortName, After: "W3t9LDFd"}, // [{},1]: not a value
		{KeyFilter: KeyFilter{Statuses: []StatusFilter{"gone"}}, Sort: SortName},
	} {
		_, err := s.Keys(ctx, Scope{}, q)
		wantCode(t, err, EINVALID)
	}
}

func TestSearch(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	ids := map[string]string{}
	for _, n := range []struct{ name, creator string }{
		{"APIKEYtest", "alice"},
		{"billing-prod-eu", "bob"},
		{"Billing Staging", "alice"},
		{"café-orders", "carol"},
		{"100%_done", "bob"},
		{"mobile_app_ios", "dave"},
	} {
		k, _, err := s.CreateKey(ctx, Actor{Username: n.creator}, NewKey{Name: n.name, Permissions: []string{"chat"}, Capacity: 1, Frequency: 1})
		if err != nil {
			t.Fatal(err)
		}
		ids[n.name] = k.ID
	}
	search := func(q string) string {
		t.Helper()
		page, err := s.Keys(ctx, Scope{}, KeyQuery{KeyFilter: KeyFilter{Search: q}, Sort: SortName})
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		var out []string
		for _, k := range page.Keys {
			out = append(out, k.Name)
		}
		if page.Total != len(out) {
			t.Fatalf("search %q: total %d for %d keys", q, page.Total, len(out))
		}
		return strings.Join(out, ",")
	}
	cases := map[string]string{
		"test":         "APIKEYtest", // inside a word
		"KEYt":         "APIKEYtest", // any case
		"billing":      "Billing Staging,billing-prod-eu",
		"illing stag":  "Billing Staging",            // every word must match
		"prod-eu":      "billing-prod-eu",            // across punctuation
		"alice":        "APIKEYtest,Billing Staging", // the creator
		"lic":          "APIKEYtest,Billing Staging",
		"CAFÉ":         "café-orders",
		"fé":           "café-orders",
		"x":            "",
		"o":            "100%_done,billing-prod-eu,café-orders,mobile_app_ios", // one letter: names and creators
		"%":            "100%_done",                                            // punctuation only, taken literally
		"_":            "100%_done,mobile_app_ios",
		"nothing-here": "",
		"app ios":      "mobile_app_ios",
		"AND":          "", // not FTS syntax
		`"billing`:     "Billing Staging,billing-prod-eu",
	}
	// A word of two letters or more also finds keys whose random public
	// id it starts ("and": one time in 46,656 a key): such a case would
	// want another answer, and is left out.
	for q := range cases {
		for _, w := range searchWords(q) {
			for _, id := range ids {
				if len(w) >= 2 && strings.HasPrefix(id, w) {
					delete(cases, q)
				}
			}
		}
	}
	// A query word may start a public id while the others are in words.
	cafe, billing := ids["café-orders"], ids["billing-prod-eu"]
	cases[strings.ToUpper(cafe[:6])+" orders"] = "café-orders"
	cases[cafe[:6]+" carol"] = "café-orders"
	cases["orders "+billing[:6]] = ""
	cases[cafe[:6]+" "+billing[:6]] = ""
	// Walking the sort order instead of reading every candidate, and
	// leaving query words found in too many words to LIKE, give the same
	// answers.
	defer setReadCaps(50_000)()
	defer func(old int) { searchWordCap = old }(searchWordCap)
	defer setProbeCap(probeCap)()
	for _, caps := range [][3]int{{50_000, 1000, 0}, {0, 1000, 50_000}, {0, 1000, 0}, {50_000, 1, 0}, {50_000, 0, 0}, {0, 1, 50_000}} {
		setReadCaps(caps[0])
		searchWordCap = caps[1]
		probeCap = caps[2]
		for q, want := range cases {
			if got := search(q); got != want {
				t.Errorf("read cap %d, word cap %d, probe cap %d: search %q = %q, want %q", caps[0], caps[1], caps[2], q, got, want)
			}
		}
	}
	// A public id, whole or its start.
	id := ids["café-orders"]
	if got := search(id); got != "café-orders" {
		t.Errorf("search by id = %q", got)
	}
	if got := search(strings.ToUpper(id[:8])); !strings.Contains(got, "café-orders") {
		t.Errorf("search by id prefix = %q", got)
	}
}

func TestEachKeyFollowsTheListOrder(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	if err := s.SeedKeys(ctx, 300, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	f := KeyFilter{Statuses: []StatusFilter{FilterAvailable}, Permission: "chat"}
	paged := allPages(t, s, KeyQuery{KeyFilter: f, Sort: SortExpires, Desc: true, Limit: 37})
	var streamed []string
	n, err := s.EachKey(ctx, Scope{}, f, SortExpires, true, func(k Key) error {
		streamed = append(streamed, k.Name)
		return nil
	})
	if err != nil || n != len(streamed) {
		t.Fatalf("EachKey: %d, %v", n, err)
	}
	if len(paged) == 0 || !slices.Equal(paged, streamed) {
		t.Fatalf("export order differs: %d paged, %d streamed", len(paged), len(streamed))
	}
}

// TestSeededKeysAreLikeCreatedOnes checks what the seed writes in bulk
// against what the store's own writes make: each key's permissions, its
// key.created event, and the search entries of both, whether the seed
// builds the indexes again (an empty database) or adds to them (a seed
// smaller than what is there).
func TestSeededKeysAreLikeCreatedOnes(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	orgs, err := s.SeedOrgs(ctx, 3, rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SeedKeys(ctx, 300, rand.New(rand.NewPCG(5, 5)), orgs...); err != nil {
		t.Fatal(err)
	}
	if err := s.SeedKeys(ctx, 100, rand.New(rand.NewPCG(6, 6)), orgs...); err != nil {
		t.Fatal(err)
	}
	checkSearchIndexes(t, s)
	var n int
	err = eachRow(ctx, mustTx(t, s), func(r rowScanner) ([]any, error) {
		var id, org int64
		var keyPerms, evOrg, details, actor string
		var at int64
		var kp sql.NullString
		err := r.Scan(&id, &org, &keyPerms, &kp, &at, &actor, &details, &evOrg)
		return []any{id, org, keyPerms, kp.String, at, actor, details, evOrg}, err
	}, func(v []any) error {
		n++
		perms := strings.Fields(v[2].(string))
		if got := v[3].(string); got != strings.Join(perms, " ") {
			t.Errorf("key %d: permissions %q, key_permissions %q", v[0], v[2], got)
		}
		want, _ := jsonOrEmpty(map[string]any{"permissions": perms, "seeded": true})
		if v[6] != want || v[5] != "seed" || v[4] != clock.now.Unix() || fmt.Sprint(v[1]) != v[7] {
			t.Errorf("key %d: event %v, want details %s", v[0], v, want)
		}
		return nil
	}, `SELECT k.id, k.org_id, k.permissions,
			(SELECT string_agg(p.name, ' ' ORDER BY p.name) FROM key_permissions kp JOIN permissions p ON p.id = kp.permission_id WHERE kp.key_id = k.id),
			e.at, e.actor_username, e.details, e.org_id
		FROM keys k JOIN events e ON e.target_id = k.public_id AND e.action = 'key.created' ORDER BY k.id`)
	if err != nil || n != 400 {
		t.Fatalf("%d seeded keys with their events, %v", n, err)
	}
	// The key list finds them by a word inside their names.
	page, err := s.Keys(ctx, Scope{}, KeyQuery{KeyFilter: KeyFilter{Search: "illin"}, Sort: SortName, Limit: 500})
	if err != nil || page.Total == 0 {
		t.Fatalf("search: %d, %v", page.Total, err)
	}
	for _, k := range page.Keys {
		if !strings.Contains(k.Name, "billing") {
			t.Fatalf("search for illin found %q", k.Name)
		}
	}
	// The audit log finds their events by the start of a word of theirs.
	k := page.Keys[0]
	events, err := s.Events(ctx, Scope{}, EventQuery{EventFilter: EventFilter{Search: "billi " + k.ID[:5]}, Count: true})
	if err != nil || events.Total != 1 || events.Events[0].TargetID != k.ID {
		t.Fatalf("the audit log's search for %s: %+v, %v", k.ID, events, err)
	}
}

// mustTx opens a read transaction that ends with the test.
func mustTx(t *testing.T, s *Store) *sql.Tx {
	t.Helper()
	tx, err := s.reader.Begin()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback() })
	return tx
}

func TestSeedKeys(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	if err := s.SeedKeys(ctx, 500, rand.New(rand.NewPCG(3, 3))); err != nil {
		t.Fatal(err)
	}
	// Seeding twice never collides on names.
	if err := s.SeedKeys(ctx, 500, rand.New(rand.NewPCG(3, 3))); err != nil {
		t.Fatal(err)
	}
	page, err := s.Keys(ctx, Scope{}, KeyQuery{Sort: SortName, Limit: 1000})
	if err != nil || page.Total != 1000 {
		t.Fatalf("seeded %d keys, %v", page.Total, err)
	}
	states := map[Status]int{}
	creators := map[string]bool{}
	for _, k := range page.Keys {
		// Every moment of a seeded key's life comes after its creation.
		for _, t2 := range []time.Time{k.RevokedAt, k.LastUsedAt} {
			if !t2.IsZero() && (t2.Before(k.CreatedAt) || t2.After(clock.now)) {
				t.Fatalf("%s: created %v, then something at %v", k.Name, k.CreatedAt, t2)
			}
		}
		if k.Expired(clock.now) && k.ExpiresAt.Before(k.CreatedAt) {
			t.Fatalf("%s expired before it was created", k.Name)
		}
		states[k.Status(clock.now)]++
		creators[k.CreatedBy] = true
	}
	for _, st := range []Status{StatusAvailable, StatusSoon, StatusDisabled, StatusExpired, StatusRevoked} {
		if states[st] == 0 {
			t.Errorf("no seeded key is %v", st)
		}
	}
	if len(creators) < 5 {
		t.Errorf("only %d creators", len(creators))
	}
}
