package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRotationKeepsTheOldSecretForItsGrace: after a rotation the new
// secret verifies as the key's own, and the old one verifies, saying until
// when, until its grace ends and then is refused as expired. The key keeps
// its id, name, rate limit and usage; each rotation is one event.
func TestRotationKeepsTheOldSecretForItsGrace(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	k, old := mustCreateKey(t, s, NewKey{Name: "svc", Enabled: true, Capacity: 3, Frequency: 3600})
	if v := verifyCode(t, s, old, ""); !v.Valid || !v.GraceUntil.IsZero() {
		t.Fatalf("before: %+v", v) // and now cached, which the rotation must drop
	}
	r, err := s.RotateKey(ctx, testActor, k.ID, 7)
	if err != nil {
		t.Fatal(err)
	}
	rotated, secret := r.Key, r.Secret
	if secret == old || !WellFormedSecret(secret) || rotated.ID != k.ID || rotated.Name != k.Name || rotated.Hint != secretHint(secret) {
		t.Fatalf("rotated: %+v, secret %q", rotated, secret)
	}
	graceEnd := clock.now.Add(7 * 24 * time.Hour)
	if r.Replaced.Hint != k.Hint || !r.Replaced.GraceUntil.Equal(graceEnd) || !r.Replaced.InGrace(clock.now) {
		t.Fatalf("replaced: %+v", r.Replaced)
	}
	v := verifyCode(t, s, secret, "")
	if !v.Valid || !v.GraceUntil.IsZero() || v.ID != k.ID {
		t.Fatalf("new secret: %+v", v)
	}
	v = verifyCode(t, s, old, "")
	if !v.Valid || !v.GraceUntil.Equal(graceEnd) || v.ID != k.ID {
		t.Fatalf("old secret in its grace: %+v", v)
	}
	// One rate limit for the key, whichever secret: 3 per hour, 3 spent.
	if v.Remaining != 0 {
		t.Fatalf("after three verifications with either secret, %d remain", v.Remaining)
	}
	clock.Advance(7*24*time.Hour - time.Second)
	if v := verifyCode(t, s, old, ""); !v.Valid {
		t.Fatalf("a second before the grace ends: %+v", v)
	}
	clock.Advance(time.Second)
	if v := verifyCode(t, s, old, ""); v.Valid || v.Code != CodeExpired || !v.GraceUntil.Equal(graceEnd) {
		t.Fatalf("after the grace: %+v", v)
	}
	if v := verifyCode(t, s, secret, ""); !v.Valid {
		t.Fatalf("the new secret after the old one's grace: %+v", v)
	}
	secrets, err := s.KeySecrets(ctx, Scope{}, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 2 || !secrets[0].Current() || secrets[0].Hint != secretHint(secret) || secrets[1].Hint != secretHint(old) ||
		secrets[1].InGrace(clock.now) || !secrets[1].GraceUntil.Equal(graceEnd) || !secrets[1].Since.Equal(k.CreatedAt) {
		t.Fatalf("secrets: %+v", secrets)
	}
	events, err := s.TargetEvents(ctx, Scope{}, TargetKey, k.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if events[0].Action != ActionKeyRotated || events[0].Details["grace_days"] != float64(7) {
		t.Fatalf("latest event: %+v", events[0])
	}
	for _, e := range events {
		for _, text := range []string{e.ChangesJSON(), e.DetailsJSON(), e.TargetName} {
			if strings.Contains(text, old) || strings.Contains(text, secret) {
				t.Fatalf("an event holds a secret: %+v", e)
			}
		}
	}
}

// TestEndGraceAndNoGrace: a rotation with no grace refuses the old secret
// at once; ending the grace refuses every previous secret on the next
// verification, even one that was cached.
func TestEndGraceAndNoGrace(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	k, first := mustCreateKey(t, s, NewKey{Name: "svc", Enabled: true})
	r, err := s.RotateKey(ctx, testActor, k.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	second := r.Secret
	if v := verifyCode(t, s, first, ""); v.Code != CodeExpired {
		t.Fatalf("a secret rotated with no grace: %+v", v)
	}
	r, err = s.RotateKey(ctx, testActor, k.ID, 30)
	if err != nil {
		t.Fatal(err)
	}
	third := r.Secret
	if v := verifyCode(t, s, second, ""); !v.Valid {
		t.Fatalf("in its grace: %+v", v)
	}
	if _, err := s.EndKeyGrace(ctx, testActor, k.ID); err != nil {
		t.Fatal(err)
	}
	if v := verifyCode(t, s, second, ""); v.Code != CodeExpired {
		t.Fatalf("after its grace was ended: %+v", v)
	}
	if v := verifyCode(t, s, third, ""); !v.Valid {
		t.Fatalf("the current secret after ending the grace: %+v", v)
	}
	events, _ := s.TargetEvents(ctx, Scope{}, TargetKey, k.ID, 1)
	if events[0].Action != ActionKeyGraceEnded {
		t.Fatalf("latest event: %+v", events[0])
	}
	// Nothing left in grace: ending it again changes nothing, records nothing.
	if _, err := s.EndKeyGrace(ctx, testActor, k.ID); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.TargetEvents(ctx, Scope{}, TargetKey, k.ID, 1); again[0].ID != events[0].ID {
		t.Fatalf("ending no grace recorded %+v", again[0])
	}
}

// TestRotationRefusals: a revoked or expired key, a grace out of range,
// and too many secrets in grace are refused, and change nothing.
func TestRotationRefusals(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	k, secret := mustCreateKey(t, s, NewKey{Name: "svc", Enabled: true, ExpiresAt: clock.now.Add(time.Hour)})
	for _, days := range []int{-2, 31} {
		var e *Error
		if _, err := s.RotateKey(ctx, testActor, k.ID, days); !errors.As(err, &e) || e.Code != EINVALID || e.Field != "grace_days" {
			t.Fatalf("grace of %d days: %v", days, err)
		}
	}
	for range maxSecretsInGrace {
		if _, err := s.RotateKey(ctx, testActor, k.ID, 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RotateKey(ctx, testActor, k.ID, 1); ErrorCode(err) != ECONFLICT {
		t.Fatalf("a rotation past %d secrets in grace: %v", maxSecretsInGrace, err)
	}
	if v := verifyCode(t, s, secret, ""); !v.Valid {
		t.Fatalf("the first secret, still in its grace: %+v", v)
	}
	clock.Advance(2 * time.Hour) // the key has expired
	if _, err := s.RotateKey(ctx, testActor, k.ID, 1); ErrorCode(err) != ECONFLICT {
		t.Fatalf("rotating an expired key: %v", err)
	}
	other, _ := mustCreateKey(t, s, NewKey{Name: "other", Enabled: true})
	if _, err := s.RevokeKey(ctx, testActor, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RotateKey(ctx, testActor, other.ID, 1); ErrorCode(err) != ECONFLICT {
		t.Fatalf("rotating a revoked key: %v", err)
	}
	// A key keeps its last few previous secrets to show.
	secrets, err := s.KeySecrets(ctx, Scope{}, k.ID)
	if err != nil || len(secrets) != 1+previousSecretsKept {
		t.Fatalf("%d secrets listed, %v", len(secrets), err)
	}
}

// TestDeletingAKeyDeletesItsPreviousSecrets: none of a deleted key's
// secrets verifies, nor stays in the database.
func TestDeletingAKeyDeletesItsPreviousSecrets(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	k, old := mustCreateKey(t, s, NewKey{Name: "svc", Enabled: true})
	if _, err := s.RotateKey(ctx, testActor, k.ID, 30); err != nil {
		t.Fatal(err)
	}
	verifyCode(t, s, old, "") // cached
	if _, err := s.ChangeKeys(ctx, testActor, KeyDelete, KeySelection{IDs: []string{k.ID}}); err != nil {
		t.Fatal(err)
	}
	if v := verifyCode(t, s, old, ""); v.Code != CodeNotFound {
		t.Fatalf("a deleted key's previous secret: %+v", v)
	}
	if n := count(t, s, "previous_secrets"); n != 0 {
		t.Fatalf("%d previous secrets left", n)
	}
}

// TestPreviousSecretsInGraceAreNeverTrimmed: a key keeps every previous
// secret in its grace, however many rotations without grace follow (as
// after a leak, when they are never refused), and the last few that ended.
func TestPreviousSecretsInGraceAreNeverTrimmed(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	k, first := mustCreateKey(t, s, NewKey{Name: "svc", Enabled: true})
	if _, err := s.RotateKey(ctx, testActor, k.ID, 30); err != nil {
		t.Fatal(err)
	}
	for range maxSecretsInGrace - 1 {
		if _, err := s.RotateKey(ctx, testActor, k.ID, 1); err != nil {
			t.Fatal(err)
		}
	}
	for i := range previousSecretsKept + 2 {
		clock.Advance(time.Minute)
		if _, err := s.RotateKey(ctx, testActor, k.ID, 0); err != nil {
			t.Fatalf("rotation %d without grace, with %d secrets in grace: %v", i+1, maxSecretsInGrace, err)
		}
	}
	if v := verifyCode(t, s, first, ""); !v.Valid {
		t.Fatalf("the first secret, in a 30-day grace, after the trimming: %+v", v)
	}
	secrets, err := s.KeySecrets(ctx, Scope{}, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	inGrace, ended := 0, 0
	for _, sec := range secrets[1:] {
		if sec.InGrace(clock.now) {
			inGrace++
		} else {
			ended++
		}
	}
	if inGrace != maxSecretsInGrace || ended != previousSecretsKept {
		t.Fatalf("%d previous secrets in grace and %d ended kept, want %d and %d", inGrace, ended, maxSecretsInGrace, previousSecretsKept)
	}
}

// TestEveryCachedSecretFollowsTheKey: with both secrets of a rotated key
// cached, a change to the key reaches the previous one on its very next
// verification too.
func TestEveryCachedSecretFollowsTheKey(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	org, err := s.CreateOrg(ctx, testActor, "Tenant", "")
	if err != nil {
		t.Fatal(err)
	}
	k, old := mustCreateKey(t, s, NewKey{Name: "svc", Enabled: true, Org: org.ID})
	r, err := s.RotateKey(ctx, testActor, k.ID, 30)
	if err != nil {
		t.Fatal(err)
	}
	cacheBoth := func() {
		t.Helper()
		if v := verifyCode(t, s, old, ""); !v.Valid {
			t.Fatalf("old: %+v", v)
		}
		if v := verifyCode(t, s, r.Secret, ""); !v.Valid {
			t.Fatalf("new: %+v", v)
		}
	}
	cacheBoth()
	if _, err := s.DisableKey(ctx, testActor, k.ID); err != nil {
		t.Fatal(err)
	}
	if v := verifyCode(t, s, old, ""); v.Code != CodeDisabled {
		t.Fatalf("the previous secret of a disabled key: %+v", v)
	}
	if _, err := s.EnableKey(ctx, testActor, k.ID); err != nil {
		t.Fatal(err)
	}
	cacheBoth()
	if _, err := s.SetOrgPolicy(ctx, testActor, org.ID, Policy{APIKeysEnabled: false}); err != nil {
		t.Fatal(err)
	}
	if v := verifyCode(t, s, old, ""); v.Code != CodeOrgDisabled {
		t.Fatalf("the previous secret with its organization's keys off: %+v", v)
	}
	if _, err := s.SetOrgPolicy(ctx, testActor, org.ID, Policy{APIKeysEnabled: true}); err != nil {
		t.Fatal(err)
	}
	cacheBoth()
	if _, err := s.RevokeKey(ctx, testActor, k.ID); err != nil {
		t.Fatal(err)
	}
	if v := verifyCode(t, s, old, ""); v.Code != CodeRevoked {
		t.Fatalf("the previous secret of a revoked key: %+v", v)
	}
}

// TestRotateKeysTakesEachOrganizationsGrace: a bulk rotation over keys of
// two organizations gives each the grace of its own, returns every new
// secret, skips a revoked key, and refuses more keys than it takes.
func TestRotateKeysTakesEachOrganizationsGrace(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	short := recoverableOrg(t, s, "Short", Policy{GraceDays: 2, GraceSet: true})
	long := recoverableOrg(t, s, "Long", Policy{GraceDays: 20, GraceSet: true})
	a, _ := mustCreateKey(t, s, NewKey{Name: "a", Enabled: true, Org: short.ID})
	b, _ := mustCreateKey(t, s, NewKey{Name: "b", Enabled: true, Org: long.ID})
	c, _ := mustCreateKey(t, s, NewKey{Name: "c", Enabled: true})
	if _, err := s.RevokeKey(ctx, testActor, c.ID); err != nil {
		t.Fatal(err)
	}
	res, rotated, err := s.RotateKeys(ctx, testActor, KeySelection{IDs: []string{a.ID, b.ID, c.ID}}, OrgGrace)
	if err != nil || res.Changed != 2 || res.Skipped != 1 || len(rotated) != 2 {
		t.Fatalf("%+v, %d rotated, %v", res, len(rotated), err)
	}
	want := map[string]time.Time{a.ID: clock.now.AddDate(0, 0, 2), b.ID: clock.now.AddDate(0, 0, 20)}
	for _, r := range rotated {
		if !r.Replaced.GraceUntil.Equal(want[r.Key.ID]) {
			t.Errorf("%s: grace until %v, want %v", r.Key.Name, r.Replaced.GraceUntil, want[r.Key.ID])
		}
		if v, err := s.VerifyKey(ctx, r.Secret, "", ""); err != nil || !v.Valid || v.ID != r.Key.ID {
			t.Errorf("%s: the new secret: %+v, %v", r.Key.Name, v, err)
		}
	}
	ids := make([]string, 0, MaxBulkRotate+1)
	for i := range MaxBulkRotate + 1 {
		k, _ := mustCreateKey(t, s, NewKey{Name: fmt.Sprint("many ", i)})
		ids = append(ids, k.ID)
	}
	before := count(t, s, "events")
	if _, _, err := s.RotateKeys(ctx, testActor, KeySelection{IDs: ids}, 0); ErrorCode(err) != EINVALID {
		t.Fatalf("%d keys at once: %v", len(ids), err)
	}
	if count(t, s, "events") != before {
		t.Fatal("a refused bulk rotation changed something")
	}
}
