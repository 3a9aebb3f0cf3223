package store

import (
	"context"
	"testing"
	"time"
)

// TestScheduledRotation: a key with a schedule is rotated when due, once,
// with its organization's grace; its new secret is kept until collected,
// then dropped when the key is not recoverable. A second run rotates
// nothing; the next rotation is due a schedule later.
func TestScheduledRotation(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	withMasterKey(t, s)
	u := mustCreateUser(t, s, "pat", RoleAdministrator)
	me := Actor{UserID: u.ID, Username: "pat"}
	acme := recoverableOrg(t, s, "Acme", Policy{GraceDays: 3, GraceSet: true})
	k, old := mustCreateKey(t, s, NewKey{Name: "scheduled", Enabled: true, Org: acme.ID, RotateEveryDays: 90})
	never, _ := mustCreateKey(t, s, NewKey{Name: "never", Enabled: true, Org: acme.ID})
	if want := clock.now.AddDate(0, 0, 90); !k.RotateDueAt.Equal(want) || k.SecretKept {
		t.Fatalf("due %v, want %v; recoverable %v", k.RotateDueAt, want, k.SecretKept)
	}
	clock.Advance(89 * 24 * time.Hour)
	if run, err := s.RotateDueKeys(ctx); err != nil || run.Rotated != 0 {
		t.Fatalf("a day early: %+v, %v", run, err)
	}
	clock.Advance(24 * time.Hour)
	run, err := s.RotateDueKeys(ctx)
	if err != nil || run.Rotated != 1 || len(run.Failed) != 0 {
		t.Fatalf("when due: %+v, %v", run, err)
	}
	if run, err := s.RotateDueKeys(ctx); err != nil || run.Rotated != 0 {
		t.Fatalf("a second run: %+v, %v", run, err)
	}
	got, err := s.Key(ctx, Scope{}, k.ID)
	if err != nil || !got.Uncollected || !got.SecretKept || !got.RotateDueAt.Equal(clock.now.AddDate(0, 0, 90)) {
		t.Fatalf("after the rotation: %+v, %v", got, err)
	}
	if n, _ := s.Key(ctx, Scope{}, never.ID); n.Uncollected || n.Hint != never.Hint {
		t.Fatalf("a key without a schedule was rotated: %+v", n)
	}
	// The old secret works for Acme's 3 days of grace.
	if v, err := s.VerifyKey(ctx, old, "", ""); err != nil || !v.Valid || !v.GraceUntil.Equal(clock.now.AddDate(0, 0, 3)) {
		t.Fatalf("the old secret: %+v, %v", v, err)
	}
	// Collecting the new secret: it verifies, and is kept no more.
	r, err := s.RevealKey(ctx, me, k.ID, testPassword)
	if err != nil || r.Key.Uncollected || r.Key.SecretKept {
		t.Fatalf("collect: %+v, %v", r.Key, err)
	}
	if v, err := s.VerifyKey(ctx, r.Secret, "", ""); err != nil || !v.Valid || !v.GraceUntil.IsZero() {
		t.Fatalf("the collected secret: %+v, %v", v, err)
	}
	if _, err := s.RevealKey(ctx, me, k.ID, testPassword); ErrorCode(err) != EINVALID {
		t.Fatalf("a second reveal of a collected secret: %v", err)
	}
	if n := countEvents(t, s, ActionKeyRotated, k.ID); n != 1 {
		t.Fatalf("%d rotation events, want 1", n)
	}

	// A schedule set later is due from the current secret's age; a
	// revoked key is never rotated.
	clock.Advance(100 * 24 * time.Hour)
	if _, err := s.SetKeySchedule(ctx, testActor, never.ID, 30); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeKey(ctx, testActor, k.ID); err != nil {
		t.Fatal(err)
	}
	if run, err := s.RotateDueKeys(ctx); err != nil || run.Rotated != 1 {
		t.Fatalf("a schedule shorter than the secret's age, and a revoked key: %+v, %v", run, err)
	}
	if _, err := s.SetKeySchedule(ctx, testActor, never.ID, MaxRotateEveryDays+1); ErrorCode(err) != EINVALID {
		t.Fatalf("a schedule too long: %v", err)
	}
}

// TestScheduledRotationWithoutMasterKey: with no master key the due keys
// are reported, not rotated, and rotated by the next run that has one.
func TestScheduledRotationWithoutMasterKey(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	k, _ := mustCreateKey(t, s, NewKey{Name: "scheduled", Enabled: true, RotateEveryDays: 1})
	clock.Advance(48 * time.Hour)
	run, err := s.RotateDueKeys(ctx)
	if err != nil || run.Rotated != 0 || ErrorCode(run.Failed[k.ID]) != ECONFLICT {
		t.Fatalf("without a master key: %+v, %v", run, err)
	}
	withMasterKey(t, s)
	if run, err := s.RotateDueKeys(ctx); err != nil || run.Rotated != 1 {
		t.Fatalf("with one: %+v, %v", run, err)
	}
}
