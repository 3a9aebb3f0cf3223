package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Revealing is limited per user: a burst of revealBurst, then one every
// revealEvery. Someone who has taken a session cannot read every secret
// at the speed of a script.
const (
	revealBurst = 10
	revealEvery = 6 * time.Second
)

// revealLimits holds each user's reveal allowance.
type revealLimits struct {
	mu     sync.Mutex
	byUser map[string]*rate.Limiter
}

// allow takes one reveal from the user's allowance at now.
func (l *revealLimits) allow(user string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byUser == nil {
		l.byUser = map[string]*rate.Limiter{}
	}
	lim, ok := l.byUser[user]
	if !ok {
		lim = rate.NewLimiter(rate.Every(revealEvery), revealBurst)
		l.byUser[user] = lim
	}
	return lim.AllowN(now, 1)
}

// Reveal is a secret shown again, and the key it belongs to.
type Reveal struct {
	Key    Key
	Secret string
}

// RevealKey shows a recoverable key's current secret again, to a user who
// typed their password again (checked and throttled as a login is). Each
// reveal is an event; a user may reveal a few at once, then one every few
// seconds. A secret that a scheduled rotation made counts as collected,
// and unless its key is recoverable, it is no longer kept. A ciphertext
// that does not decrypt shows nothing, and changes nothing.
func (s *Store) RevealKey(ctx context.Context, actor Actor, id, password string) (Reveal, error) {
	u, hash, err := s.userWithHash(ctx, "u.id = ?", actor.UserID)
	if errors.Is(err, sql.ErrNoRows) {
		return Reveal{}, Errorf(EFORBIDDEN, "", "Only a person can reveal a secret.")
	} else if err != nil {
		return Reveal{}, err
	}
	if !s.reveals.allow(u.Username, s.now()) {
		return Reveal{}, Errorf(ELIMITED, "", "You have revealed %d secrets in a short time; wait a few seconds before revealing another.", revealBurst)
	}
	unlock, err := s.checkCurrentPassword(ctx, actor, u, hash, password)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Field == "current" {
			e.Field = "password"
		}
		return Reveal{}, err
	}
	defer unlock()
	var r Reveal
	r.Key, err = s.changeKey(ctx, actor, id, keyChange{action: KeyReveal, apply: func(c *changeTx, k *Key) (*eventRecord, error) {
		if k.Expired(c.now) {
			return nil, Errorf(ECONFLICT, "", "Key %q expired on %s: its secret works nowhere. Extend the key before revealing it.",
				k.Name, k.ExpiresAt.Format("2006-01-02 15:04 UTC"))
		}
		var err error
		if r.Secret, err = s.openKept(c.ctx, c.stmts, k); err != nil {
			return nil, err
		}
		// Revealing changes nothing the key's page calls a change: not
		// updated_at.
		ev := keyEvent(k, ActionKeyRevealed, nil)
		if !k.Uncollected {
			return ev, nil
		}
		ev.Details = map[string]any{"collected": true}
		p, err := c.policy(k.orgRow)
		if err != nil {
			return nil, err
		}
		k.Uncollected = false
		if !p.RecoverableKeys {
			k.SecretKept = false
			return ev, (keptSecret{}).keep(c.ctx, c.stmts, k.rowID)
		}
		_, err = c.exec(`UPDATE kept_secrets SET uncollected = 0 WHERE key_id = ?`, k.rowID)
		return ev, err
	}})
	if err != nil {
		return Reveal{}, err
	}
	return r, nil
}

// KeptSecret returns the kept secret of a key read from the store, for an
// export by someone who may reveal keys: "" when the key keeps none, keeps
// one that only a reveal may collect (a scheduled rotation's), or no
// longer works. The caller records the export. A ciphertext that does not
// open is a store error, and shows nothing.
func (s *Store) KeptSecret(ctx context.Context, k Key) (string, error) {
	if !k.SecretKept || k.Uncollected || !k.Usable(s.now()) {
		return "", nil
	}
	return s.openKept(ctx, s.reader, &k)
}

// openKept reads and decrypts the kept secret of k. It must have been
// sealed by this server's master key, for this key, and be the key's
// current secret: an older ciphertext written back is refused too.
func (s *Store) openKept(ctx context.Context, db interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, k *Key) (string, error) {
	var sealed, hash []byte
	var by sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT ks.sealed, ks.sealed_by, k.secret_hash FROM keys k LEFT JOIN kept_secrets ks ON ks.key_id = k.id
		WHERE k.id = ?`, k.rowID).Scan(&sealed, &by, &hash); err != nil {
		return "", err
	}
	if sealed == nil {
		return "", Errorf(EINVALID, "", "The secret of key %q is not kept: it was shown once, when it was made. Rotate the key to give it a new one.", k.Name)
	}
	m, err := s.masterKey()
	if err != nil {
		return "", err
	}
	if by.String != m.ID() {
		return "", Errorf(ECONFLICT, "", "The secret of key %q was kept under master key %s, which this server does not have; it cannot be shown. Verification is not affected.", k.Name, by.String)
	}
	secret, err := m.openFor(sealed, k.ID, hash)
	if err != nil {
		return "", Errorf(ECONFLICT, "", "The kept secret of key %q does not decrypt to its current secret: it was changed outside Keydesk. Nothing is shown, and verification is not affected; rotate the key to give it a new secret.", k.Name)
	}
	return secret, nil
}
