package store

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func verifyCode(t *testing.T, s *Store, secret, permission string) Verification {
	t.Helper()
	v, err := s.VerifyKey(context.Background(), secret, permission, "")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifyEveryAnswer(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	k, secret := mustCreateKey(t, s, NewKey{Name: "svc", Permissions: []string{"chat"}, Enabled: true,
		ExpiresAt: clock.now.Add(time.Hour), Capacity: 5, Frequency: 60})
	v := verifyCode(t, s, secret, "chat")
	if !v.Valid || v.ID != k.ID || v.Name != "svc" || v.Limit != 5 || v.Remaining != 4 || !v.ExpiresAt.Equal(k.ExpiresAt) {
		t.Fatalf("valid key: %+v", v)
	}
	if v := verifyCode(t, s, secret, ""); !v.Valid {
		t.Fatalf("without a permission: %+v", v)
	}
	typo := []byte(secret)
	typo[10] ^= 1
	other := NewSecret() // well formed, but no such key
	for _, c := range []struct {
		secret, permission, code string
	}{
		{"", "", CodeMalformed},
		{"kd_short", "", CodeMalformed},
		{string(typo), "", CodeMalformed},
		{other, "", CodeNotFound},
		{secret, "securemail", CodePermissionDenied},
	} {
		if v := verifyCode(t, s, c.secret, c.permission); v.Valid || v.Code != c.code {
			t.Errorf("%q/%q: %+v, want %s", c.secret, c.permission, v, c.code)
		}
	}
	// Each change takes effect on the very next verification.
	steps := []struct {
		change func() error
		code   string
	}{
		{func() error { _, err := s.DisableKey(ctx, testActor, k.ID); return err }, CodeDisabled},
		{func() error { _, err := s.EnableKey(ctx, testActor, k.ID); return err }, ""},
		{func() error { _, err := s.ExpireKey(ctx, testActor, k.ID); return err }, CodeExpired},
		{func() error { _, err := s.SetKeyExpiry(ctx, testActor, k.ID, time.Time{}); return err }, ""},
		{func() error { _, err := s.SetKeyRateLimit(ctx, testActor, k.ID, 1, 60); return err }, ""},
		{func() error { return nil }, CodeRateLimited}, // the new limit of one is spent
		{func() error { _, err := s.SetKeyRateLimit(ctx, testActor, k.ID, 100, 60); return err }, ""},
		{func() error {
			_, err := s.ChangeKeys(ctx, testActor, KeyDisable, KeySelection{IDs: []string{k.ID}})
			return err
		}, CodeDisabled},
		{func() error {
			_, err := s.ChangeKeys(ctx, testActor, KeyEnable, KeySelection{IDs: []string{k.ID}})
			return err
		}, ""},
		{func() error { _, err := s.RevokeKey(ctx, testActor, k.ID); return err }, CodeRevoked},
		{func() error { _, err := s.DeleteKey(ctx, testActor, k.ID); return err }, CodeNotFound},
	}
	for i, step := range steps {
		if err := step.change(); err != nil {
			t.Fatal(err)
		}
		v := verifyCode(t, s, secret, "")
		if v.Code != step.code {
			t.Fatalf("step %d: code %q, want %q", i, v.Code, step.code)
		}
	}
}

func TestRateLimitIsExact(t *testing.T) {
	s, clock := newTestStore(t)
	_, secret := mustCreateKey(t, s, NewKey{Name: "limited", Enabled: true, Capacity: 120, Frequency: 60})
	// Exactly the capacity passes in a burst; the next is refused.
	for i := 0; i < 120; i++ {
		v := verifyCode(t, s, secret, "")
		if !v.Valid || v.Remaining != 119-i {
			t.Fatalf("verification %d: %+v", i+1, v)
		}
	}
	v := verifyCode(t, s, secret, "")
	if v.Code != CodeRateLimited || v.Remaining != 0 || v.RetryAfter != 500*time.Millisecond || v.Reset != time.Minute {
		t.Fatalf("over the limit: %+v", v)
	}
	// One comes back every half second (60 s / 120).
	clock.Advance(499 * time.Millisecond)
	if v := verifyCode(t, s, secret, ""); v.Code != CodeRateLimited {
		t.Fatalf("before the pace: %+v", v)
	}
	clock.Advance(time.Millisecond)
	if v := verifyCode(t, s, secret, ""); !v.Valid || v.Remaining != 0 {
		t.Fatalf("at the pace: %+v", v)
	}
	if v := verifyCode(t, s, secret, ""); v.Code != CodeRateLimited {
		t.Fatalf("right after: %+v", v)
	}
	// After a whole period, the whole capacity is back.
	clock.Advance(time.Minute)
	for i := 0; i < 120; i++ {
		if v := verifyCode(t, s, secret, ""); !v.Valid {
			t.Fatalf("after a minute, verification %d: %+v", i+1, v)
		}
	}
	if v := verifyCode(t, s, secret, ""); v.Code != CodeRateLimited {
		t.Fatalf("121st after a minute: %+v", v)
	}
}

func TestOddRateLimitsAreExact(t *testing.T) {
	s, _ := newTestStore(t)
	for _, lim := range [][2]int{{7, 1}, {999_999, 1}, {3, 86400}, {1, 1}} {
		_, secret := mustCreateKey(t, s, NewKey{Name: NewPassword(), Enabled: true, Capacity: lim[0], Frequency: lim[1]})
		passed := 0
		for i := 0; i < lim[0]+1 && i < 2000; i++ {
			if verifyCode(t, s, secret, "").Valid {
				passed++
			}
		}
		if want := min(lim[0], 2000); passed != want {
			t.Errorf("%d per %ds: %d passed, want %d", lim[0], lim[1], passed, want)
		}
	}
}

func TestCheckKeyCountsNothing(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	k, secret := mustCreateKey(t, s, NewKey{Name: "checked", Enabled: true, Capacity: 1, Frequency: 60})
	for i := 0; i < 3; i++ {
		v, err := s.CheckKey(ctx, Scope{}, secret, "", "")
		if err != nil || !v.Valid || v.Remaining != 1 {
			t.Fatalf("check %d: %+v, %v", i, v, err)
		}
	}
	if err := s.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Key(ctx, Scope{}, k.ID); got.UseCount != 0 || !got.LastUsedAt.IsZero() {
		t.Fatalf("checking counted as use: %d", got.UseCount)
	}
}

func TestUsageIsFlushedAndSurvivesShutdown(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	k, secret := mustCreateKey(t, s, NewKey{Name: "used", Enabled: true, Capacity: 1000, Frequency: 1})
	for i := 0; i < 7; i++ {
		verifyCode(t, s, secret, "")
	}
	// Nothing is written per verification.
	if got, _ := s.Key(ctx, Scope{}, k.ID); got.UseCount != 0 {
		t.Fatalf("uses written before a flush: %d", got.UseCount)
	}
	if err := s.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Key(ctx, Scope{}, k.ID); got.UseCount != 7 || !got.LastUsedAt.Equal(clock.now) {
		t.Fatalf("after a flush: %d uses, last %v", got.UseCount, got.LastUsedAt)
	}
	// A change drops the key from the cache; its uncounted uses are kept.
	verifyCode(t, s, secret, "")
	if _, err := s.RenameKey(ctx, testActor, k.ID, "used-2"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	verifyCode(t, s, secret, "")
	if err := s.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Key(ctx, Scope{}, k.ID); got.UseCount != 9 || !got.LastUsedAt.Equal(clock.now) {
		t.Fatalf("after the change: %d uses, last %v", got.UseCount, got.LastUsedAt)
	}
}

func TestCloseWritesTheLastUses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	k, secret := mustCreateKey(t, s, NewKey{Name: "closing", Enabled: true})
	for i := 0; i < 3; i++ {
		verifyCode(t, s, secret, "")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, _ := s.Key(ctx, Scope{}, k.ID); got.UseCount != 3 {
		t.Fatalf("%d uses after a clean shutdown, want 3", got.UseCount)
	}
}

func TestDeletedKeysUsesGoNowhere(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	k, secret := mustCreateKey(t, s, NewKey{Name: "short-lived", Enabled: true})
	for i := 0; i < 5; i++ {
		verifyCode(t, s, secret, "")
	}
	if _, err := s.DeleteKey(ctx, testActor, k.ID); err != nil {
		t.Fatal(err)
	}
	s.cache.mu.RLock()
	_, counted := s.cache.usage[k.rowID]
	_, limited := s.cache.limiters[k.rowID]
	s.cache.mu.RUnlock()
	if counted || limited {
		t.Fatal("a deleted key keeps its usage counter or rate limit in memory")
	}
	next, _ := mustCreateKey(t, s, NewKey{Name: "next", Enabled: true})
	if err := s.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Key(ctx, Scope{}, next.ID); got.UseCount != 0 || !got.LastUsedAt.IsZero() {
		t.Fatalf("the new key inherited %d uses", got.UseCount)
	}
}

// feedDown is an engine whose change feed has been down since a time.
type feedDown struct {
	engine
	since time.Time
}

func (f feedDown) DownSince() time.Time { return f.since }

// TestOrganizationsWhileTheFeedIsDown: while the change feed is down,
// every verification reads its key anew, and the organizations again
// once they are orgsFreshWhileDown old: a switch turned off meanwhile,
// and never announced, is seen that soon, without reading every
// organization for each verification.
func TestOrganizationsWhileTheFeedIsDown(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	_, acme, _, _ := testOrgs(t, s)
	_, secret := mustCreateKey(t, s, NewKey{Name: "k", Enabled: true, Capacity: MaxCapacity, Frequency: 1, Org: acme.ID})
	var loads atomic.Int64
	load := s.orgs.load
	s.orgs.load = func() (*orgIndex, error) { loads.Add(1); return load() }
	s.db = feedDown{engine: s.db, since: time.Now()}
	start := time.Now()
	for range 200 {
		if v := verifyCode(t, s, secret, ""); !v.Valid {
			t.Fatalf("answered %q", v.Code)
		}
	}
	if n, most := loads.Load(), 1+int64(time.Since(start)/orgsFreshWhileDown); n < 1 || n > most {
		t.Fatalf("the organizations were read %d times for 200 verifications in %v", n, time.Since(start))
	}
	if _, err := s.writer.ExecContext(ctx, "UPDATE organizations SET api_keys_enabled = 0 WHERE public_id = ?", acme.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(orgsFreshWhileDown)
	if v := verifyCode(t, s, secret, ""); v.Code != CodeOrgDisabled {
		t.Fatalf("%v after the organization was switched off: %q", orgsFreshWhileDown, v.Code)
	}
}
