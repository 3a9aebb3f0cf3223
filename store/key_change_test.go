package store

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"
)

// events returns the actions recorded about a key, oldest first.
func eventActions(t *testing.T, s *Store, id string) []string {
	t.Helper()
	evs, err := s.TargetEvents(context.Background(), Scope{}, TargetKey, id, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, evs[i].Action)
	}
	return out
}

func TestKeyLifecycle(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	k, _ := mustCreateKey(t, s, NewKey{Name: "svc", Enabled: true})
	alice := Actor{Username: "alice", ClientAddr: "198.51.100.7", UserAgent: "ua"}

	clock.Advance(time.Hour)
	got, err := s.DisableKey(ctx, alice, k.ID)
	if err != nil || got.Enabled || got.EnabledBy != "alice" || !got.EnabledAt.Equal(clock.now) {
		t.Fatalf("disable: %+v, %v", got, err)
	}
	if got.Status(clock.now) != StatusDisabled {
		t.Fatalf("status after disable = %v", got.Status(clock.now))
	}
	// Disabling again changes nothing and records nothing.
	if _, err := s.DisableKey(ctx, alice, k.ID); err != nil {
		t.Fatal(err)
	}
	if got, err = s.EnableKey(ctx, alice, k.ID); err != nil || !got.Enabled {
		t.Fatalf("enable: %+v, %v", got, err)
	}

	at := clock.now.Add(10 * 24 * time.Hour)
	if got, err = s.SetKeyExpiry(ctx, alice, k.ID, at); err != nil || !got.ExpiresAt.Equal(at) || got.ExpirySetBy != "alice" {
		t.Fatalf("set expiry: %+v, %v", got, err)
	}
	if got.Status(clock.now) != StatusSoon {
		t.Fatalf("status 10 days before expiry = %v", got.Status(clock.now))
	}
	_, err = s.SetKeyExpiry(ctx, alice, k.ID, clock.now.Add(-time.Second))
	wantCode(t, err, EINVALID)

	clock.Advance(time.Minute)
	if got, err = s.ExpireKey(ctx, alice, k.ID); err != nil || !got.ExpiresAt.Equal(clock.now) {
		t.Fatalf("expire now: %+v, %v", got, err)
	}
	_, err = s.ExpireKey(ctx, alice, k.ID)
	wantCode(t, err, ECONFLICT)
	_, err = s.RevokeKey(ctx, alice, k.ID)
	wantCode(t, err, ECONFLICT) // only a usable key can be revoked

	// Extending an expired key makes it usable again.
	if got, err = s.SetKeyExpiry(ctx, alice, k.ID, time.Time{}); err != nil || !got.ExpiresAt.IsZero() {
		t.Fatalf("never expire: %+v, %v", got, err)
	}
	if got, err = s.RevokeKey(ctx, alice, k.ID); err != nil || got.RevokedBy != "alice" || !got.RevokedAt.Equal(clock.now) {
		t.Fatalf("revoke: %+v, %v", got, err)
	}
	for name, change := range map[string]func() (Key, error){
		"revoke":  func() (Key, error) { return s.RevokeKey(ctx, alice, k.ID) },
		"enable":  func() (Key, error) { return s.EnableKey(ctx, alice, k.ID) },
		"disable": func() (Key, error) { return s.DisableKey(ctx, alice, k.ID) },
		"expire":  func() (Key, error) { return s.ExpireKey(ctx, alice, k.ID) },
		"extend":  func() (Key, error) { return s.SetKeyExpiry(ctx, alice, k.ID, clock.now.Add(time.Hour)) },
	} {
		if _, err := change(); ErrorCode(err) != ECONFLICT {
			t.Errorf("%s on a revoked key: %v, want a conflict", name, err)
		}
	}
	if _, err := s.DeleteKey(ctx, alice, k.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Key(ctx, Scope{}, k.ID)
	wantCode(t, err, ENOTFOUND)
	_, err = s.DeleteKey(ctx, alice, k.ID)
	wantCode(t, err, ENOTFOUND)
	if n := count(t, s, "key_permissions") + countSearchEntries(t, s, 0); n != 0 {
		t.Fatalf("%d rows about the deleted key remain", n)
	}
	checkSearchIndexes(t, s)

	want := []string{ActionKeyCreated, ActionKeyDisabled, ActionKeyEnabled, ActionKeyExpirySet,
		ActionKeyExpired, ActionKeyExpiryClear, ActionKeyRevoked, ActionKeyDeleted}
	if got := eventActions(t, s, k.ID); !slices.Equal(got, want) {
		t.Fatalf("events = %v\nwant %v", got, want)
	}
	evs, _ := s.TargetEvents(ctx, Scope{}, TargetKey, k.ID, 100)
	last := evs[0]
	if last.ActorUsername != "alice" || last.ClientAddr != "198.51.100.7" || last.TargetName != "svc" || !last.At.Equal(clock.now) {
		t.Fatalf("delete event = %+v", last)
	}
}

func TestUnknownKey(t *testing.T) {
	s, _ := newTestStore(t)
	_, err := s.RevokeKey(context.Background(), testActor, "nosuchkey0000000")
	wantCode(t, err, ENOTFOUND)
}

func TestChangeKeysByID(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	a, _ := mustCreateKey(t, s, NewKey{Name: "a", Enabled: true})
	b, _ := mustCreateKey(t, s, NewKey{Name: "b", Enabled: true})
	c, _ := mustCreateKey(t, s, NewKey{Name: "c", Enabled: true})
	if _, err := s.RevokeKey(ctx, testActor, c.ID); err != nil {
		t.Fatal(err)
	}
	res, err := s.ChangeKeys(ctx, testActor, KeyRevoke, KeySelection{IDs: []string{a.ID, b.ID, c.ID, a.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Selected != 3 || res.Changed != 2 || res.Skipped != 1 {
		t.Fatalf("result = %+v", res)
	}
	// One bulk id ties the events of one action together.
	ea, _ := s.TargetEvents(ctx, Scope{}, TargetKey, a.ID, 1)
	eb, _ := s.TargetEvents(ctx, Scope{}, TargetKey, b.ID, 1)
	if ea[0].BulkID == "" || ea[0].BulkID != eb[0].BulkID {
		t.Fatalf("bulk ids %q and %q", ea[0].BulkID, eb[0].BulkID)
	}
	// An unknown id changes nothing at all.
	events := count(t, s, "events")
	_, err = s.ChangeKeys(ctx, testActor, KeyDelete, KeySelection{IDs: []string{a.ID, "nosuchkey0000000"}})
	wantCode(t, err, ENOTFOUND)
	if count(t, s, "keys") != 3 || count(t, s, "events") != events {
		t.Fatal("a failed bulk action changed something")
	}
	_, err = s.ChangeKeys(ctx, testActor, KeyExpireNow, KeySelection{IDs: []string{a.ID}})
	wantCode(t, err, EINVALID)
	_, err = s.ChangeKeys(ctx, testActor, KeyDelete, KeySelection{})
	wantCode(t, err, EINVALID)
}

func TestChangeKeysByFilter(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	for _, name := range []string{"batch-1", "batch-2", "batch-3", "other"} {
		mustCreateKey(t, s, NewKey{Name: name, Enabled: true})
	}
	f := KeyFilter{Search: "batch"}
	// A count that no longer matches what the user confirmed stops it.
	_, err := s.ChangeKeys(ctx, testActor, KeyDelete, KeySelection{Filter: &f, Expected: 2})
	wantCode(t, err, ECONFLICT)
	if count(t, s, "keys") != 4 {
		t.Fatal("a refused bulk delete deleted")
	}
	res, err := s.ChangeKeys(ctx, testActor, KeyDisable, KeySelection{Filter: &f, Expected: 3})
	if err != nil || res.Changed != 3 {
		t.Fatalf("disable all matching: %+v, %v", res, err)
	}
	res, err = s.ChangeKeys(ctx, testActor, KeyDelete, KeySelection{Filter: &f})
	if err != nil || res.Changed != 3 {
		t.Fatalf("delete all matching: %+v, %v", res, err)
	}
	page, _ := s.Keys(ctx, Scope{}, KeyQuery{Sort: SortName})
	if page.Total != 1 || page.Keys[0].Name != "other" {
		t.Fatalf("left: %+v", page.Keys)
	}
}

// TestBulkDeleteInChunks deletes keys over several of the chunks a bulk
// action deletes at a time: every key goes, with its permissions and its
// search entry, and each has its event.
func TestBulkDeleteInChunks(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	defer func(n int) { bulkChunk = n }(bulkChunk)
	bulkChunk = 4
	for i := range 11 {
		mustCreateKey(t, s, NewKey{Name: "gone-" + strconv.Itoa(i), Permissions: []string{"chat", "securemail"}})
	}
	kept, _ := mustCreateKey(t, s, NewKey{Name: "kept"})
	res, err := s.ChangeKeys(ctx, testActor, KeyDelete, KeySelection{Filter: &KeyFilter{Search: "gone"}})
	if err != nil || res.Changed != 11 {
		t.Fatalf("delete: %+v, %v", res, err)
	}
	if n := count(t, s, "keys"); n != 1 {
		t.Fatalf("%d keys left", n)
	}
	var perms, entries, events int
	s.reader.QueryRow(`SELECT count(*) FROM key_permissions WHERE key_id != ?`, kept.rowID).Scan(&perms)
	entries = countSearchEntries(t, s, kept.rowID)
	s.reader.QueryRow(`SELECT count(*) FROM events WHERE action = ?`, ActionKeyDeleted).Scan(&events)
	if perms != 0 || entries != 0 || events != 11 {
		t.Fatalf("left %d permissions and %d search entries of deleted keys; %d events", perms, entries, events)
	}
	checkSearchIndexes(t, s)
}

func TestRenameKeyKeepsItsHistory(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	k, _ := mustCreateKey(t, s, NewKey{Name: "old-name", Enabled: true})
	mustCreateKey(t, s, NewKey{Name: "taken"})
	if _, err := s.RenameKey(ctx, testActor, k.ID, "TAKEN"); ErrorCode(err) != EINVALID {
		t.Fatalf("rename to a taken name: %v", err)
	}
	if _, err := s.RenameKey(ctx, testActor, k.ID, " "); ErrorCode(err) != EINVALID {
		t.Fatalf("rename to nothing: %v", err)
	}
	got, err := s.RenameKey(ctx, testActor, k.ID, "New-Name")
	if err != nil || got.Name != "New-Name" {
		t.Fatalf("rename: %+v, %v", got, err)
	}
	// A change of case alone is a rename too.
	if got, err = s.RenameKey(ctx, testActor, k.ID, "new-name"); err != nil || got.Name != "new-name" {
		t.Fatalf("rename case: %+v, %v", got, err)
	}
	if want := []string{ActionKeyCreated, ActionKeyRenamed, ActionKeyRenamed}; !slices.Equal(eventActions(t, s, k.ID), want) {
		t.Fatalf("events %v", eventActions(t, s, k.ID))
	}
	// The search finds the new name, not the old one.
	for q, want := range map[string]int{"new": 1, "old": 0} {
		page, _ := s.Keys(ctx, Scope{}, KeyQuery{KeyFilter: KeyFilter{Search: q}, Sort: SortName})
		if page.Total != want {
			t.Errorf("search %q: %d keys, want %d", q, page.Total, want)
		}
	}
	// The old name still finds the key's events.
	page, _ := s.Events(ctx, Scope{}, EventQuery{EventFilter: EventFilter{Search: "old-name"}})
	if len(page.Events) == 0 {
		t.Fatal("the old name no longer finds the key's events")
	}
	checkSearchIndexes(t, s)
}

// TestSearchIndexesNoticeADrift proves checkSearchIndexes can fail: a name
// changed behind the index's back leaves it holding words the row no
// longer has.
func TestSearchIndexesNoticeADrift(t *testing.T) {
	sqliteOnly(t, "the full-text indexes")
	s, _ := newTestStore(t)
	k, _ := mustCreateKey(t, s, NewKey{Name: "before"})
	checkSearchIndexes(t, s)
	if _, err := s.writer.Exec(`UPDATE keys SET name = 'after' WHERE public_id = ?`, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.Exec(`INSERT INTO key_search (key_search) VALUES ('integrity-check')`); err == nil {
		t.Fatal("the integrity check passed an index that lost track of a rename")
	}
}

// TestUpdateKeyIsAllOrNothing: several fields change in one call, each
// recorded as its own call would record it, and verification sees the
// change at once; a rate limit given by capacity alone keeps the
// frequency; one refused change, even the last, leaves every field as it
// was and records nothing.
func TestUpdateKeyIsAllOrNothing(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	k, secret := mustCreateKey(t, s, NewKey{Name: "svc", Enabled: true})
	if v, _ := s.VerifyKey(ctx, secret, "", ""); !v.Valid {
		t.Fatalf("a new key does not verify: %s", v.Code)
	}
	before := len(eventActions(t, s, k.ID))
	name, capacity, disabled := "svc-renamed", 7, false
	at := clock.now.Add(48 * time.Hour)
	got, err := s.UpdateKey(ctx, testActor, k.ID, KeyUpdate{Name: &name, Capacity: &capacity, ExpiresAt: &at, Enabled: &disabled})
	if err != nil || got.Name != name || got.Capacity != 7 || got.Frequency != k.Frequency || !got.ExpiresAt.Equal(at) || got.Enabled {
		t.Fatalf("update: %+v, %v", got, err)
	}
	if got, want := eventActions(t, s, k.ID)[before:], []string{ActionKeyRenamed, ActionKeyRateLimitSet, ActionKeyExpirySet, ActionKeyDisabled}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if v, _ := s.VerifyKey(ctx, secret, "", ""); v.Code != CodeDisabled {
		t.Fatalf("verification after the update: %q, want DISABLED", v.Code)
	}

	before = len(eventActions(t, s, k.ID))
	other, enabled, never := "half-done", true, -1
	_, err = s.UpdateKey(ctx, testActor, k.ID, KeyUpdate{Name: &other, Enabled: &enabled, RotateEveryDays: &never})
	wantCode(t, err, EINVALID)
	if now, _ := s.Key(ctx, Scope{}, k.ID); now.Name != name || now.Enabled || now.RotateEveryDays != 0 {
		t.Fatalf("a refused update changed the key: %+v", now)
	}
	if got := eventActions(t, s, k.ID)[before:]; len(got) != 0 {
		t.Fatalf("a refused update recorded %v", got)
	}
}
