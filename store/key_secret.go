package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Grace periods: how long a rotated key's previous secret keeps working,
// so that the services that hold it can move to the new one.
const (
	MaxGraceDays     = 30
	DefaultGraceDays = 30
	// OrgGrace asks RotateKey for the grace period of the key's
	// organization's policy.
	OrgGrace = -1
)

// maxSecretsInGrace is how many previous secrets of a key may be in their
// grace period at once; rotating once more with a grace waits until one
// ends (a rotation with none, as after a leak, never waits).
const maxSecretsInGrace = 5

// previousSecretsKept is how many previous secrets whose grace ended a key
// keeps to show, the newest. Those in grace are all kept.
const previousSecretsKept = 5

// Secret is one of a key's secrets, as its page lists them: never the
// secret itself, only its display form.
type Secret struct {
	Hint       string
	Since      time.Time // when it became the key's secret
	ReplacedAt time.Time // zero for the current secret
	GraceUntil time.Time // a previous secret verifies before this time
}

// Current reports whether s is the key's current secret.
func (s Secret) Current() bool { return s.ReplacedAt.IsZero() }

// InGrace reports whether s is a previous secret that still verifies at now.
func (s Secret) InGrace(now time.Time) bool { return !s.Current() && now.Before(s.GraceUntil) }

// GraceProblem is what is wrong with a grace period of days, or "".
func GraceProblem(days int) string {
	if days < 0 || days > MaxGraceDays {
		return fmt.Sprintf("Choose a grace period from 0 to %d days.", MaxGraceDays)
	}
	return ""
}

// KeySecrets returns the secrets of the key with public id id, if it is
// in the scope: the current one first, then the previous ones, newest
// first.
func (s *Store) KeySecrets(ctx context.Context, sc Scope, id string) ([]Secret, error) {
	return readValue(ctx, s, func(tx *sql.Tx) ([]Secret, error) {
		k, err := keyByID(ctx, tx, sc, id)
		if err != nil {
			return nil, err
		}
		var since sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT rotated_at FROM keys WHERE id = ?`, k.rowID).Scan(&since); err != nil {
			return nil, err
		}
		current := Secret{Hint: k.Hint, Since: k.CreatedAt}
		if since.Valid {
			current.Since = time.Unix(since.Int64, 0).UTC()
		}
		previous, err := allRows(ctx, tx, func(r rowScanner) (Secret, error) {
			var sec Secret
			var since, replaced, grace int64
			err := r.Scan(&sec.Hint, &since, &replaced, &grace)
			sec.Since, sec.ReplacedAt, sec.GraceUntil = time.Unix(since, 0).UTC(), time.Unix(replaced, 0).UTC(), time.Unix(grace, 0).UTC()
			return sec, err
		}, `SELECT hint, since, replaced_at, grace_until FROM previous_secrets WHERE key_id = ? ORDER BY replaced_at DESC, grace_until DESC`, k.rowID)
		return append([]Secret{current}, previous...), err
	})
}

// Rotation is what a rotation did: the key, its new secret (the one time
// it is shown), and the secret it replaced.
type Rotation struct {
	Key      Key
	Secret   string
	Replaced Secret
}

// RotateKey gives a key a new secret. The secret it had keeps working for
// graceDays (0 to MaxGraceDays; 0 ends it now; OrgGrace for the
// organization's, which is also the most it allows). The key keeps its id,
// name, permissions, rate limit, usage and history. A revoked or expired
// key cannot be rotated.
func (s *Store) RotateKey(ctx context.Context, actor Actor, id string, graceDays int) (Rotation, error) {
	if msg := GraceProblem(graceDays); msg != "" && graceDays != OrgGrace {
		return Rotation{}, &Error{Code: EINVALID, Field: "grace_days", Message: msg}
	}
	r := Rotation{Secret: NewSecret()}
	var err error
	r.Key, err = s.changeKey(ctx, actor, id, s.rotateChange(r.Secret, graceDays, false, &r.Replaced))
	if err != nil {
		return Rotation{}, err
	}
	return r, nil
}

// MaxBulkRotate is how many keys one bulk rotation takes: their new
// secrets are shown on one page, once.
const MaxBulkRotate = 1000

// RotateKeys rotates the selected keys in one transaction, each as
// RotateKey does, and returns their new secrets, in the order rotated.
// Keys that cannot be rotated (revoked, expired, too many secrets in
// grace, recoverable with no master key to keep the new secret) are
// skipped, unchanged, and counted.
func (s *Store) RotateKeys(ctx context.Context, actor Actor, sel KeySelection, graceDays int) (BulkResult, []Rotation, error) {
	if msg := GraceProblem(graceDays); msg != "" && graceDays != OrgGrace {
		return BulkResult{}, nil, &Error{Code: EINVALID, Field: "grace_days", Message: msg}
	}
	var out []Rotation
	ch := keyChange{action: KeyRotate, apply: func(c *changeTx, k *Key) (*eventRecord, error) {
		r := Rotation{Secret: NewSecret()}
		ev, err := s.rotateChange(r.Secret, graceDays, false, &r.Replaced).apply(c, k)
		if err == nil && ev != nil {
			r.Key = *k
			out = append(out, r)
		}
		return ev, err
	}}
	res, err := s.changeKeys(ctx, actor, ch, sel, MaxBulkRotate)
	if err != nil {
		return BulkResult{}, nil, err
	}
	return res, out, nil
}

// EndKeyGrace ends the grace period of every previous secret of a key:
// from now on only its current secret verifies.
func (s *Store) EndKeyGrace(ctx context.Context, actor Actor, id string) (Key, error) {
	return s.changeKey(ctx, actor, id, endGraceChange())
}

// rotateChange makes secret the key's, and tells replaced about the one it
// had. A scheduled rotation keeps the secret encrypted until someone
// collects it; any other keeps it only for a recoverable key.
func (s *Store) rotateChange(secret string, graceDays int, scheduled bool, replaced *Secret) keyChange {
	return keyChange{action: KeyRotate, apply: func(c *changeTx, k *Key) (*eventRecord, error) {
		if scheduled && (k.RotateDueAt.IsZero() || k.RotateDueAt.After(c.now)) {
			return nil, nil // rotated already, by another run
		}
		if k.Expired(c.now) {
			return nil, Errorf(ECONFLICT, "", "Key %q expired on %s; extend it before rotating it.",
				k.Name, k.ExpiresAt.Format("2006-01-02 15:04 UTC"))
		}
		p, err := c.policy(k.orgRow)
		if err != nil {
			return nil, err
		}
		// A bulk rotation applies this change to keys of several
		// organizations: each takes its own.
		graceDays := graceDays
		switch {
		case graceDays == OrgGrace:
			graceDays = p.Grace()
		case p.GraceSet && graceDays > p.GraceDays:
			return nil, Errorf(EINVALID, "grace_days", "The policy allows a grace period of at most %s here.", countText(p.GraceDays, "day", "days"))
		}
		var inGrace int
		if err := c.stmts.QueryRowContext(c.ctx, `SELECT count(*) FROM previous_secrets WHERE key_id = ? AND grace_until > ?`,
			k.rowID, c.now.Unix()).Scan(&inGrace); err != nil {
			return nil, err
		}
		if inGrace >= maxSecretsInGrace && graceDays > 0 {
			return nil, Errorf(ECONFLICT, "", "Key %q already has %d previous secrets in their grace period; end their grace before rotating it again.",
				k.Name, inGrace)
		}
		// Everything that can refuse the rotation comes before the first
		// write: a bulk rotation skips a refused key and goes on, in the
		// same transaction.
		kept, err := s.sealFor(k, p, secret, scheduled)
		if err != nil {
			return nil, err
		}
		graceUntil := c.now.Add(time.Duration(graceDays) * 24 * time.Hour)
		// The secret the key had becomes a previous one, from the row
		// itself: its hash never leaves the database.
		if _, err := c.exec(`INSERT INTO previous_secrets (secret_hash, key_id, hint, since, replaced_at, grace_until)
			SELECT secret_hash, id, hint, coalesce(rotated_at, created_at), ?, ? FROM keys WHERE id = ?`,
			c.now.Unix(), graceUntil.Unix(), k.rowID); err != nil {
			return nil, err
		}
		if _, err := c.exec(`DELETE FROM previous_secrets WHERE key_id = ?1 AND grace_until <= ?2 AND secret_hash NOT IN
			(SELECT secret_hash FROM previous_secrets WHERE key_id = ?1 AND grace_until <= ?2 ORDER BY replaced_at DESC, grace_until DESC LIMIT ?3)`,
			k.rowID, c.now.Unix(), previousSecretsKept); err != nil {
			return nil, err
		}
		var since sql.NullInt64
		if err := c.stmts.QueryRowContext(c.ctx, `SELECT rotated_at FROM keys WHERE id = ?`, k.rowID).Scan(&since); err != nil {
			return nil, err
		}
		*replaced = Secret{Hint: k.Hint, Since: k.CreatedAt, ReplacedAt: c.now, GraceUntil: graceUntil}
		if since.Valid {
			replaced.Since = time.Unix(since.Int64, 0).UTC()
		}
		hint := secretHint(secret)
		ev := keyEvent(k, ActionKeyRotated, map[string]Change{"secret": {Before: k.Hint, After: hint}})
		ev.Details = map[string]any{"grace_days": graceDays, "grace_until": timeValue(graceUntil)}
		if scheduled {
			ev.Details["scheduled"] = true
		}
		k.Hint, k.SecretKept, k.Uncollected = hint, kept.sealed != nil, scheduled
		if err := kept.keep(c.ctx, c.stmts, k.rowID); err != nil {
			return nil, err
		}
		if k.RotateEveryDays > 0 {
			k.RotateDueAt = c.now.AddDate(0, 0, k.RotateEveryDays)
			if err := writeSchedule(c.ctx, c.stmts, k); err != nil {
				return nil, err
			}
		}
		return ev, c.update(k, `secret_hash = ?, hint = ?, rotated_at = ?`, HashSecret(secret), hint, c.now.Unix())
	}}
}

func endGraceChange() keyChange {
	return keyChange{action: KeyEndGrace, apply: func(c *changeTx, k *Key) (*eventRecord, error) {
		res, err := c.exec(`UPDATE previous_secrets SET grace_until = ? WHERE key_id = ? AND grace_until > ?`,
			c.now.Unix(), k.rowID, c.now.Unix())
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return nil, err // no secret was in its grace period
		}
		ev := keyEvent(k, ActionKeyGraceEnded, nil)
		ev.Details = map[string]any{"secrets": n}
		return ev, c.update(k, "")
	}}
}
