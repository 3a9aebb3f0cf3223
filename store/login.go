package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// Login throttling: after LoginFreeFailures failures within LoginWindow, by
// one username or from one client address, each further attempt waits
// longer: 30 seconds after the fifth failure, doubling to at most 15
// minutes.
const (
	LoginFreeFailures = 5
	LoginWindow       = 15 * time.Minute
	loginFirstDelay   = 30 * time.Second
	loginMaxDelay     = 15 * time.Minute
)

// LoginName is how a typed username is recorded and throttled: trimmed,
// lowercased, and cut to the longest username there can be, so that
// nobody can write a megabyte into the audit log by typing it.
func LoginName(typed string) string {
	name := strings.ToLower(strings.TrimSpace(typed))
	if r := []rune(name); len(r) > MaxUsernameLen {
		name = string(r[:MaxUsernameLen])
	}
	return name
}

// BeginLogin reserves a login attempt by actor.Username from
// actor.ClientAddr. When earlier failures hold it back, it returns how long
// to wait. Otherwise it counts the attempt as a failure at once, before the
// password is checked, so that guesses sent in parallel cannot slip past
// the count; LoginSucceeded takes it back.
func (s *Store) BeginLogin(ctx context.Context, actor Actor) (time.Duration, error) {
	now := s.now()
	username := LoginName(actor.Username)
	var wait time.Duration
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, q := range []struct{ column, value string }{{"username", username}, {"client_addr", actor.ClientAddr}} {
			var n int
			var last sql.NullInt64
			err := tx.QueryRowContext(ctx, `SELECT count(*), max(at) FROM login_failures WHERE `+q.column+` = ? AND at > ?`,
				q.value, now.Add(-LoginWindow).Unix()).Scan(&n, &last)
			if err != nil {
				return err
			}
			if n < LoginFreeFailures {
				continue
			}
			delay := min(loginFirstDelay<<min(n-LoginFreeFailures, 10), loginMaxDelay)
			if until := time.Unix(last.Int64, 0).Add(delay); until.Sub(now) > wait {
				wait = until.Sub(now)
			}
		}
		if wait > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures (at, username, client_addr) VALUES (?, ?, ?)`,
			now.Unix(), username, actor.ClientAddr); err != nil {
			return err
		}
		// Failures older than the window no longer count.
		_, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE at < ?`, now.Add(-time.Hour).Unix())
		return err
	})
	return wait, err
}

// LoginFailed records a failed login in the audit log; BeginLogin has
// counted it already.
func (s *Store) LoginFailed(ctx context.Context, actor Actor) error {
	actor.Username = LoginName(actor.Username)
	return s.write(ctx, func(tx *sql.Tx) error {
		return s.logEvent(ctx, tx, actor, eventRecord{Action: ActionLoginFailed, TargetType: TargetUser, TargetName: actor.Username})
	})
}

// LoginSucceeded records a login, and forgets the username's failures.
func (s *Store) LoginSucceeded(ctx context.Context, actor Actor, u User) error {
	now := s.now()
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE username = ?`, u.Username); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET last_login_at = ? WHERE id = ?`, now.Unix(), u.ID); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, actor, userEvent(ActionLoginSucceeded, u, nil, nil))
	})
}
