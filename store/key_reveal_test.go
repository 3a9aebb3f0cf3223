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

// revealer makes a user who may reveal keys, and gives the store a master
// key and a recoverable organization, Vault. It returns the user as an
// actor, and Vault.
func revealer(t *testing.T, s *Store) (Actor, Org) {
	t.Helper()
	withMasterKey(t, s)
	u := mustCreateUser(t, s, "pat", RoleAdministrator)
	return Actor{UserID: u.ID, Username: "pat", ClientAddr: "203.0.113.9"}, recoverableOrg(t, s, "Vault", Policy{RecoverableKeys: true})
}

// TestRevealRecoverableKey: a key made in a recoverable organization keeps
// its secret encrypted and shows it again to its user's password, once
// per event; a key elsewhere keeps nothing. Rotation keeps the new secret
// of a recoverable key, and nothing of one that is not.
func TestRevealRecoverableKey(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	me, vault := revealer(t, s)

	k, secret := mustCreateKey(t, s, NewKey{Name: "kept", Enabled: true, Org: vault.ID})
	if !k.SecretKept {
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
	if plain.SecretKept {
		t.Fatal("a key at the root is recoverable")
	}
	var e *Error
	if _, err := s.RevealKey(ctx, me, plain.ID, testPassword); !errors.As(err, &e) || e.Code != EINVALID || !strings.Contains(e.Message, "not kept") {
		t.Fatalf("revealing a key that is not recoverable: %v", err)
	}
	if _, err := s.RevealKey(ctx, me, k.ID, "not my password"); !errors.As(err, &e) || e.Field != "password" {
		t.Fatalf("a wrong password: %v", err)
	}
	acme := me
	acme.Scope = orgScope("/1/999/")
	if _, err := s.RevealKey(ctx, acme, k.ID, testPassword); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("a key outside the scope: %v", err)
	}
	if n := countEvents(t, s, ActionKeyRevealed, k.ID); n != 2 {
		t.Fatalf("%d reveal events after the refusals, want 2", n)
	}
	if _, err := s.RevealKey(ctx, me, k.ID, testPassword); err != nil {
		t.Fatal(err)
	}

	// Switching recovery off forgets what was kept, at once; a rotation
	// after it keeps nothing.
	if _, err := s.SetOrgPolicy(ctx, testActor, vault.ID, Policy{APIKeysEnabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevealKey(ctx, me, k.ID, testPassword); ErrorCode(err) != EINVALID {
		t.Fatalf("revealing once recovery is off: %v", err)
	}
	if got, _ := s.Key(ctx, Scope{}, k.ID); got.SecretKept {
		t.Fatal("the key still keeps its secret once recovery is off")
	}
	if rot, err = s.RotateKey(ctx, testActor, k.ID, 0); err != nil || rot.Key.SecretKept {
		t.Fatalf("rotating once recovery is off: %+v, %v", rot.Key, err)
	}

	// Moving an organization out from under a recoverable one forgets its
	// keys' secrets too.
	if _, err := s.SetOrgPolicy(ctx, testActor, vault.ID, Policy{APIKeysEnabled: true, RecoverableKeys: true}); err != nil {
		t.Fatal(err)
	}
	team, err := s.CreateOrg(ctx, testActor, "Team", vault.ID)
	if err != nil {
		t.Fatal(err)
	}
	moved, _ := mustCreateKey(t, s, NewKey{Name: "moved", Enabled: true, Org: team.ID})
	if !moved.SecretKept {
		t.Fatal("a key below a recoverable organization keeps nothing")
	}
	orgs, _ := s.Orgs(ctx, Scope{})
	if _, err := s.UpdateOrg(ctx, testActor, team.ID, "Team", orgs[0].ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Key(ctx, Scope{}, moved.ID); got.SecretKept {
		t.Fatal("a key moved out of a recoverable organization still keeps its secret")
	}
}

// TestRevealFailsClosed: a ciphertext changed in the database, moved to
// another key, or kept under another master key shows nothing and says
// why; verification of the key goes on.
func TestRevealFailsClosed(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	me, vault := revealer(t, s)
	a, secretA := mustCreateKey(t, s, NewKey{Name: "a", Enabled: true, Org: vault.ID})
	b, _ := mustCreateKey(t, s, NewKey{Name: "b", Enabled: true, Org: vault.ID})

	// One bit flipped.
	var sealed []byte
	if err := s.writer.QueryRowContext(ctx, `SELECT sealed FROM kept_secrets WHERE key_id = (SELECT id FROM keys WHERE public_id = ?)`, a.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	sealed[20] ^= 1
	if _, err := s.writer.ExecContext(ctx, `UPDATE kept_secrets SET sealed = ? WHERE key_id = (SELECT id FROM keys WHERE public_id = ?)`, sealed, a.ID); err != nil {
		t.Fatal(err)
	}
	if r, err := s.RevealKey(ctx, me, a.ID, testPassword); ErrorCode(err) != ECONFLICT || r.Secret != "" || !strings.Contains(err.Error(), "does not decrypt") {
		t.Fatalf("a tampered ciphertext: %q, %v", r.Secret, err)
	}
	if v, err := s.VerifyKey(ctx, secretA, "", ""); err != nil || !v.Valid {
		t.Fatalf("verification after a tampered ciphertext: %+v, %v", v, err)
	}
	// b's ciphertext copied onto a.
	if _, err := s.writer.ExecContext(ctx, `UPDATE kept_secrets SET sealed = (SELECT sealed FROM kept_secrets WHERE key_id = (SELECT id FROM keys WHERE public_id = ?))
		WHERE key_id = (SELECT id FROM keys WHERE public_id = ?)`, b.ID, a.ID); err != nil {
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

// TestRevealRefusesStaleAndExpired: an older ciphertext of the key written
// back over the current one shows nothing; an expired key's secret is not
// shown; neither is exported.
func TestRevealRefusesStaleAndExpired(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	me, vault := revealer(t, s)
	k, _ := mustCreateKey(t, s, NewKey{Name: "kept", Enabled: true, Org: vault.ID, ExpiresAt: clock.now.Add(48 * time.Hour)})
	var stale []byte
	if err := s.writer.QueryRowContext(ctx, `SELECT sealed FROM kept_secrets WHERE key_id = (SELECT id FROM keys WHERE public_id = ?)`, k.ID).Scan(&stale); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RotateKey(ctx, testActor, k.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.ExecContext(ctx, `UPDATE kept_secrets SET sealed = ? WHERE key_id = (SELECT id FROM keys WHERE public_id = ?)`, stale, k.ID); err != nil {
		t.Fatal(err)
	}
	if r, err := s.RevealKey(ctx, me, k.ID, testPassword); ErrorCode(err) != ECONFLICT || r.Secret != "" {
		t.Fatalf("an older ciphertext written back: %q, %v", r.Secret, err)
	}
	current, _ := s.Key(ctx, Scope{}, k.ID)
	if secret, err := s.KeptSecret(ctx, current); ErrorCode(err) != ECONFLICT || secret != "" {
		t.Fatalf("the export of an older ciphertext: %q, %v", secret, err)
	}

	fresh, secret := mustCreateKey(t, s, NewKey{Name: "fresh", Enabled: true, Org: vault.ID, ExpiresAt: clock.now.Add(time.Hour)})
	if got, err := s.KeptSecret(ctx, fresh); err != nil || got != secret {
		t.Fatalf("the export of a working key: %q, %v", got, err)
	}
	clock.Advance(2 * time.Hour)
	if _, err := s.RevealKey(ctx, me, fresh.ID, testPassword); ErrorCode(err) != ECONFLICT || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("revealing an expired key: %v", err)
	}
	if got, err := s.KeptSecret(ctx, fresh); err != nil || got != "" {
		t.Fatalf("the export of an expired key: %q, %v", got, err)
	}
}

// TestBulkRotationSkipsWithoutWriting: a key that a bulk rotation skips
// (here: recoverable, with no master key to keep its new secret) is left
// exactly as it was, and rotates later like any other.
func TestBulkRotationSkipsWithoutWriting(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	withMasterKey(t, s)
	vault := recoverableOrg(t, s, "Vault", Policy{RecoverableKeys: true})
	kept, old := mustCreateKey(t, s, NewKey{Name: "kept", Enabled: true, Org: vault.ID})
	plain, _ := mustCreateKey(t, s, NewKey{Name: "plain", Enabled: true})
	master := s.master
	s.master = nil
	res, rotated, err := s.RotateKeys(ctx, testActor, KeySelection{IDs: []string{kept.ID, plain.ID}}, 1)
	if err != nil || res.Changed != 1 || res.Skipped != 1 || len(rotated) != 1 || rotated[0].Key.ID != plain.ID {
		t.Fatalf("%+v, %d rotated, %v", res, len(rotated), err)
	}
	if secrets, err := s.KeySecrets(ctx, Scope{}, kept.ID); err != nil || len(secrets) != 1 {
		t.Fatalf("the skipped key has %d secrets, %v", len(secrets), err)
	}
	if v, err := s.VerifyKey(ctx, old, "", ""); err != nil || !v.Valid || !v.GraceUntil.IsZero() {
		t.Fatalf("the skipped key's secret: %+v, %v", v, err)
	}
	s.master = master
	if _, err := s.RotateKey(ctx, testActor, kept.ID, 1); err != nil {
		t.Fatalf("rotating the skipped key later: %v", err)
	}
}
