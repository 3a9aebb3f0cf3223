package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// withMasterKey gives s a master key of its own and returns it.
func withMasterKey(t testing.TB, s *Store) *MasterKey {
	t.Helper()
	m, err := ParseMasterKey(GenerateMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	s.SetMasterKey(func() (*MasterKey, error) { return m, nil })
	return m
}

// recoverableOrg makes an organization whose keys are recoverable.
func recoverableOrg(t testing.TB, s *Store, name string, p Policy) Org {
	t.Helper()
	ctx := context.Background()
	o, err := s.CreateOrg(ctx, testActor, name, "")
	if err != nil {
		t.Fatal(err)
	}
	p.APIKeysEnabled = true
	if o, err = s.SetOrgPolicy(ctx, testActor, o.ID, p); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestRevealRecoverableKey: a key made in a recoverable organization keeps
// its secret encrypted and shows it again to its user's password, once
// per event; a key elsewhere keeps nothing. Rotation keeps the new secret
// of a recoverable key, and nothing of one that is not.
func TestRevealRecoverableKey(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	withMasterKey(t, s)
	u := mustCreateUser(t, s, "pat", RoleAdministrator)
	me := Actor{UserID: u.ID, Username: "pat", ClientAddr: "203.0.113.9"}
	vault := recoverableOrg(t, s, "Vault", Policy{RecoverableKeys: true})

	k, secret := mustCreateKey(t, s, NewKey{Name: "kept", Enabled: true, Org: vault.ID})
	if !k.Recoverable {
		t.Fatal("a key of a recoverable organization is not recoverable")
	}
	r, err := s.RevealKey(ctx, me, k.ID, testPassword)
	if err != nil || r.Secret != secret {
		t.Fatalf("reveal: %q, %v; want the secret made", r.Secret, err)
	}
	if n := countEvents(t, s, ActionKeyRevealed, k.ID); n != 1 {
		t.Fatalf("%d reveal events, want 1", n)
	}
	// Rotating keeps the new secret; the old one is not shown any more.
	rot, err := s.RotateKey(ctx, testActor, k.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := s.RevealKey(ctx, me, k.ID, testPassword); err != nil || r.Secret != rot.Secret {
		t.Fatalf("reveal after rotation: %q, %v; want the new secret", r.Secret, err)
	}

	// Refusals change nothing and show nothing.
	plain, _ := mustCreateKey(t, s, NewKey{Name: "plain", Enabled: true})
	if plain.Recoverable {
		t.Fatal("a key at the root is recoverable")
	}
	var e *Error
	if _, err := s.RevealKey(ctx, me, plain.ID, testPassword); !errors.As(err, &e) || e.Code != EINVALID || !strings.Contains(e.Message, "not kept") {
		t.Fatalf("revealing a key that is not recoverable: %v", err)
	}
	if _, err := s.RevealKey(ctx, me, k.ID, "not my password"); !errors.As(err, &e) || e.Field != "password" {
		t.Fatalf("a wrong password: %v", err)
	}
	acme := Actor{UserID: u.ID, Username: "pat", ClientAddr: "203.0.113.9", Scope: orgScope("/1/999/")}
	if _, err := s.RevealKey(ctx, acme, k.ID, testPassword); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("a key outside the scope: %v", err)
	}
	if n := countEvents(t, s, ActionKeyRevealed, k.ID); n != 2 {
		t.Fatalf("%d reveal events after the refusals, want 2", n)
	}
	if _, err := s.RevealKey(ctx, me, k.ID, testPassword); err != nil {
		t.Fatal(err)
	}

	// A rotation of a key outside recoverable organizations drops what
	// was kept.
	if _, err := s.SetOrgPolicy(ctx, testActor, vault.ID, Policy{APIKeysEnabled: true}); err != nil {
		t.Fatal(err)
	}
	if rot, err = s.RotateKey(ctx, testActor, k.ID, 0); err != nil || rot.Key.Recoverable {
		t.Fatalf("rotating once recovery is off: %+v, %v", rot.Key, err)
	}
	if _, err := s.RevealKey(ctx, me, k.ID, testPassword); ErrorCode(err) != EINVALID {
		t.Fatalf("revealing once recovery is off: %v", err)
	}
}

// TestRevealFailsClosed: a ciphertext changed in the database, moved to
// another key, or kept under another master key shows nothing and says
// why; verification of the key goes on.
func TestRevealFailsClosed(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	withMasterKey(t, s)
	u := mustCreateUser(t, s, "pat", RoleAdministrator)
	me := Actor{UserID: u.ID, Username: "pat", ClientAddr: "203.0.113.9"}
	vault := recoverableOrg(t, s, "Vault", Policy{RecoverableKeys: true})
	a, secretA := mustCreateKey(t, s, NewKey{Name: "a", Enabled: true, Org: vault.ID})
	b, _ := mustCreateKey(t, s, NewKey{Name: "b", Enabled: true, Org: vault.ID})

	// One bit flipped.
	var sealed []byte
	if err := s.writer.QueryRowContext(ctx, `SELECT sealed_secret FROM keys WHERE public_id = ?`, a.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	sealed[20] ^= 1
	if _, err := s.writer.ExecContext(ctx, `UPDATE keys SET sealed_secret = ? WHERE public_id = ?`, sealed, a.ID); err != nil {
		t.Fatal(err)
	}
	if r, err := s.RevealKey(ctx, me, a.ID, testPassword); ErrorCode(err) != ECONFLICT || r.Secret != "" || !strings.Contains(err.Error(), "does not decrypt") {
		t.Fatalf("a tampered ciphertext: %q, %v", r.Secret, err)
	}
	if v, err := s.VerifyKey(ctx, secretA, "", ""); err != nil || !v.Valid {
		t.Fatalf("verification after a tampered ciphertext: %+v, %v", v, err)
	}
	// b's ciphertext copied onto a.
	if _, err := s.writer.ExecContext(ctx, `UPDATE keys SET sealed_secret = (SELECT sealed_secret FROM keys WHERE public_id = ?) WHERE public_id = ?`, b.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevealKey(ctx, me, a.ID, testPassword); ErrorCode(err) != ECONFLICT {
		t.Fatalf("another key's ciphertext: %v", err)
	}
	// Another master key.
	withMasterKey(t, s)
	if _, err := s.RevealKey(ctx, me, b.ID, testPassword); ErrorCode(err) != ECONFLICT || !strings.Contains(err.Error(), "master key") {
		t.Fatalf("a ciphertext under another master key: %v", err)
	}
	if n := countEvents(t, s, ActionKeyRevealed, ""); n != 0 {
		t.Fatalf("%d reveal events for reveals that showed nothing", n)
	}
	// Without any master key, a recoverable key cannot be made; a plain
	// one can.
	s.master = nil
	if _, _, err := s.CreateKey(ctx, testActor, NewKey{Name: "c", Permissions: []string{"chat"}, Capacity: 1, Frequency: 1, Org: vault.ID}); ErrorCode(err) != ECONFLICT {
		t.Fatalf("a recoverable key without a master key: %v", err)
	}
	mustCreateKey(t, s, NewKey{Name: "c"})
}

// TestRevealIsRateLimited: a user reveals a burst, then waits; another
// user is not held up.
func TestRevealIsRateLimited(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	withMasterKey(t, s)
	vault := recoverableOrg(t, s, "Vault", Policy{RecoverableKeys: true})
	k, _ := mustCreateKey(t, s, NewKey{Name: "kept", Enabled: true, Org: vault.ID})
	pat := mustCreateUser(t, s, "pat", RoleAdministrator)
	sam := mustCreateUser(t, s, "sam", RoleAdministrator)
	me := Actor{UserID: pat.ID, Username: "pat"}
	for i := range revealBurst {
		if _, err := s.RevealKey(ctx, me, k.ID, testPassword); err != nil {
			t.Fatalf("reveal %d: %v", i+1, err)
		}
	}
	if _, err := s.RevealKey(ctx, me, k.ID, testPassword); ErrorCode(err) != ELIMITED {
		t.Fatalf("reveal past the burst: %v", err)
	}
	if _, err := s.RevealKey(ctx, Actor{UserID: sam.ID, Username: "sam"}, k.ID, testPassword); err != nil {
		t.Fatalf("another user: %v", err)
	}
	clock.Advance(revealEvery)
	if _, err := s.RevealKey(ctx, me, k.ID, testPassword); err != nil {
		t.Fatalf("after waiting: %v", err)
	}
}

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
	if want := clock.now.AddDate(0, 0, 90); !k.RotateDueAt.Equal(want) || k.Recoverable {
		t.Fatalf("due %v, want %v; recoverable %v", k.RotateDueAt, want, k.Recoverable)
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
	if err != nil || !got.Uncollected || !got.Recoverable || !got.RotateDueAt.Equal(clock.now.AddDate(0, 0, 90)) {
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
	if err != nil || r.Key.Uncollected || r.Key.Recoverable {
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

// TestMasterKeyFile: the key file is made once, mode 0600, and read back
// the same; a file that is not a key is an error, not a new key.
func TestMasterKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keydesk.db.key")
	if _, _, err := ReadMasterKeyFile(path, false); err == nil {
		t.Fatal("a missing file without create")
	}
	m, made, err := ReadMasterKeyFile(path, true)
	if err != nil || !made {
		t.Fatalf("first use: %v, made %v", err, made)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the key file: %v, %v", fi.Mode(), err)
	}
	again, made, err := ReadMasterKeyFile(path, true)
	if err != nil || made || again.ID() != m.ID() {
		t.Fatalf("second use: %v, made %v, id %s want %s", err, made, again.ID(), m.ID())
	}
	if err := WriteMasterKeyFile(path, GenerateMasterKey()); err == nil {
		t.Fatal("a key file was overwritten")
	}
	os.WriteFile(path, []byte("not a key\n"), 0o600)
	if _, _, err := ReadMasterKeyFile(path, true); err == nil {
		t.Fatal("a file that is not a key was taken")
	}
	for _, bad := range []string{"", "c2hvcnQ=", strings.Repeat("A", 44)[:43] + "!"} {
		if _, err := ParseMasterKey(bad); err == nil {
			t.Errorf("%q parsed as a master key", bad)
		}
	}
}

// countEvents counts the events of an action, about one key or any.
func countEvents(t testing.TB, s *Store, action, keyID string) int {
	t.Helper()
	var n int
	if err := s.reader.QueryRow(`SELECT count(*) FROM events WHERE action = ?1 AND (?2 = '' OR target_id = ?2)`, action, keyID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
