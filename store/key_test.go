package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestCreateKeyStoresOnlyTheHash(t *testing.T) {
	s, clock := newTestStore(t)
	k, secret := mustCreateKey(t, s, NewKey{Name: "  billing-prod  ", Permissions: []string{"securemail", "chat", "chat"}, Enabled: true})
	if k.Name != "billing-prod" {
		t.Errorf("name = %q, want it trimmed", k.Name)
	}
	if got := strings.Join(k.Permissions, ","); got != "chat,securemail" {
		t.Errorf("permissions = %s, want sorted and unique", got)
	}
	if !k.CreatedAt.Equal(clock.now) || k.CreatedBy != "tester" {
		t.Errorf("created %v by %q", k.CreatedAt, k.CreatedBy)
	}
	if !strings.HasPrefix(secret, k.Hint[:6]) || !strings.HasSuffix(secret, k.Hint[len(k.Hint)-4:]) {
		t.Errorf("hint %q does not match secret", k.Hint)
	}
	// Nothing in the database holds the secret itself.
	var hits int
	err := s.writer.QueryRow(`SELECT
		(SELECT count(*) FROM keys WHERE public_id = ?1 OR name = ?1 OR hint = ?1 OR secret_hash = ?2)
		+ (SELECT count(*) FROM events WHERE changes LIKE '%' || ?1 || '%' OR details LIKE '%' || ?1 || '%')`, secret, []byte(secret)).Scan(&hits)
	if err != nil || hits != 0 {
		t.Fatalf("secret found in %d rows (%v)", hits, err)
	}
	var hash []byte
	s.writer.QueryRow(`SELECT secret_hash FROM keys WHERE public_id = ?`, k.ID).Scan(&hash)
	if string(hash) != string(HashSecret(secret)) {
		t.Fatal("stored hash is not SHA-256 of the secret")
	}
	got, err := s.Key(context.Background(), Scope{}, k.ID)
	if err != nil || got.Name != k.Name || !got.Enabled || got.Capacity != DefaultCapacity {
		t.Fatalf("Key(%s) = %+v, %v", k.ID, got, err)
	}
}

func TestCreateKeyRefusesBadInput(t *testing.T) {
	s, clock := newTestStore(t)
	mustCreateKey(t, s, NewKey{Name: "Taken"})
	cases := []struct {
		name  string
		in    NewKey
		field string
	}{
		{"empty name", NewKey{Name: "   "}, "name"},
		{"long name", NewKey{Name: strings.Repeat("é", 101)}, "name"},
		{"control character", NewKey{Name: "tab\there"}, "name"},
		{"duplicate, other case", NewKey{Name: "tAKEN"}, "name"},
		{"no permission", NewKey{Name: "ok", Permissions: []string{}}, "permissions"},
		{"unknown permission", NewKey{Name: "ok", Permissions: []string{"voice"}}, "permissions"},
		{"past expiry", NewKey{Name: "ok", ExpiresAt: clock.now.Add(-time.Hour)}, "expires_at"},
		{"expiry now", NewKey{Name: "ok", ExpiresAt: clock.now}, "expires_at"},
		{"zero capacity", NewKey{Name: "ok", Capacity: -1, Frequency: 60}, "capacity"},
		{"huge frequency", NewKey{Name: "ok", Capacity: 5, Frequency: MaxFrequency + 1}, "frequency"},
	}
	keys, events := count(t, s, "keys"), count(t, s, "events")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.Permissions == nil {
				in.Permissions = []string{"chat"}
			}
			if in.Capacity == 0 {
				in.Capacity, in.Frequency = DefaultCapacity, DefaultFrequency
			}
			_, _, err := s.CreateKey(context.Background(), testActor, in)
			wantCode(t, err, EINVALID)
			if f := err.(*Error).Field; f != tc.field {
				t.Errorf("field = %q, want %q", f, tc.field)
			}
		})
	}
	if count(t, s, "keys") != keys || count(t, s, "events") != events {
		t.Fatal("a refused key changed the database")
	}
}

func TestKeyNameAllows100Characters(t *testing.T) {
	s, _ := newTestStore(t)
	mustCreateKey(t, s, NewKey{Name: strings.Repeat("ü", 100)})
}

func TestStatusAtThe30DayBoundary(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		k    Key
		want Status
	}{
		{"never expires", Key{Enabled: true}, StatusAvailable},
		{"31 days left", Key{Enabled: true, ExpiresAt: now.Add(31 * 24 * time.Hour)}, StatusAvailable},
		{"a second past 30 days", Key{Enabled: true, ExpiresAt: now.Add(SoonWindow + time.Second)}, StatusAvailable},
		{"exactly 30 days", Key{Enabled: true, ExpiresAt: now.Add(SoonWindow)}, StatusSoon},
		{"a second left", Key{Enabled: true, ExpiresAt: now.Add(time.Second)}, StatusSoon},
		{"expiring now", Key{Enabled: true, ExpiresAt: now}, StatusExpired},
		{"disabled", Key{}, StatusDisabled},
		{"disabled and expired", Key{ExpiresAt: now.Add(-time.Hour)}, StatusExpired},
		{"revoked and expired", Key{Enabled: true, ExpiresAt: now.Add(-time.Hour), RevokedAt: now.Add(-2 * time.Hour)}, StatusRevoked},
	}
	for _, tc := range cases {
		if got := tc.k.Status(now); got != tc.want {
			t.Errorf("%s: status = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestStatusFiltersMatchStatus(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	now := clock.now
	mustCreateKey(t, s, NewKey{Name: "never", Enabled: true})
	// The edges are measured from the time the filters run, a minute on.
	mustCreateKey(t, s, NewKey{Name: "soon-edge", Enabled: true, ExpiresAt: now.Add(time.Minute + SoonWindow)})
	mustCreateKey(t, s, NewKey{Name: "late-edge", Enabled: true, ExpiresAt: now.Add(time.Minute + SoonWindow + time.Second)})
	mustCreateKey(t, s, NewKey{Name: "expires-soon-off", Enabled: false, ExpiresAt: now.Add(time.Hour)})
	mustCreateKey(t, s, NewKey{Name: "to-expire", Enabled: true, ExpiresAt: now.Add(time.Minute)})
	r, _ := mustCreateKey(t, s, NewKey{Name: "to-revoke", Enabled: true})
	if _, err := s.RevokeKey(ctx, testActor, r.ID); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute) // to-expire is now exactly at its expiry
	names := func(st ...StatusFilter) string {
		page, err := s.Keys(ctx, Scope{}, KeyQuery{KeyFilter: KeyFilter{Statuses: st}, Sort: SortName})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range page.Keys {
			out = append(out, k.Name)
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		filters []StatusFilter
		want    string
	}{
		{[]StatusFilter{FilterAvailable}, "expires-soon-off late-edge never soon-edge"},
		{[]StatusFilter{FilterUnavailable}, "to-expire to-revoke"},
		{[]StatusFilter{FilterSoon}, "expires-soon-off soon-edge"},
		{[]StatusFilter{FilterDisabled}, "expires-soon-off"},
		{[]StatusFilter{FilterSoon, FilterUnavailable}, "expires-soon-off soon-edge to-expire to-revoke"},
		{nil, "expires-soon-off late-edge never soon-edge to-expire to-revoke"},
	} {
		if got := names(tc.filters...); got != tc.want {
			t.Errorf("filters %v: got %q, want %q", tc.filters, got, tc.want)
		}
	}
	// A second later, late-edge crosses the 30-day line.
	clock.Advance(time.Second)
	if got := names(FilterSoon); got != "expires-soon-off late-edge soon-edge" {
		t.Errorf("soon a second later = %q", got)
	}
}

func TestNextCopyName(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	mustCreateKey(t, s, NewKey{Name: "APIKEYtest"})
	next := func(name string) string {
		t.Helper()
		got, err := s.NextCopyName(ctx, Key{Name: name, orgRow: RootOrg})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := next("APIKEYtest"); got != "APIKEYtest_1" {
		t.Fatalf("first copy = %q", got)
	}
	mustCreateKey(t, s, NewKey{Name: "APIKEYtest_1"})
	if got := next("APIKEYtest"); got != "APIKEYtest_2" {
		t.Fatalf("second copy = %q", got)
	}
	// Copying a copy numbers from the same base, whatever the case.
	mustCreateKey(t, s, NewKey{Name: "apikeytest_2"})
	if got := next("APIKEYtest_1"); got != "APIKEYtest_3" {
		t.Fatalf("copy of a copy = %q", got)
	}
	// Other names that merely start alike do not count.
	mustCreateKey(t, s, NewKey{Name: "APIKEYtest_extra_9"})
	mustCreateKey(t, s, NewKey{Name: "APIKEYtester_7"})
	if got := next("APIKEYtest"); got != "APIKEYtest_3" {
		t.Fatalf("with look-alikes = %q", got)
	}
	// The result stays within the name limit.
	long := strings.Repeat("n", MaxKeyNameLen)
	if got := next(long); len([]rune(got)) != MaxKeyNameLen || !strings.HasSuffix(got, "_1") {
		t.Fatalf("long name copy = %q (%d)", got, len([]rune(got)))
	}
	// "_0" and "_01" are part of a name, not copy numbers.
	if got := next("v_0"); got != "v_0_1" {
		t.Fatalf("copy of v_0 = %q", got)
	}
}

func TestPermissionCatalog(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	if _, err := s.CreatePermission(ctx, testActor, Permission{Name: "Voice", Description: "Voice calls."}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []Permission{{Name: "voice", Description: "again"}, {Name: "bad name", Description: "x"}, {Name: "sms", Description: ""}} {
		if _, err := s.CreatePermission(ctx, testActor, p); ErrorCode(err) != EINVALID {
			t.Errorf("create %+v: %v", p, err)
		}
	}
	mustCreateKey(t, s, NewKey{Name: "caller", Permissions: []string{"voice"}})
	uses, err := s.PermissionUses(ctx, Scope{})
	if err != nil || len(uses) != 3 || uses[2].Name != "voice" || uses[2].Keys != 1 {
		t.Fatalf("uses %+v, %v", uses, err)
	}
	if err := s.DeletePermission(ctx, testActor, "voice"); ErrorCode(err) != ECONFLICT {
		t.Fatalf("deleting a permission in use: %v", err)
	}
	if err := s.DeletePermission(ctx, testActor, "securemail"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePermission(ctx, testActor, "securemail"); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("deleting twice: %v", err)
	}
}
