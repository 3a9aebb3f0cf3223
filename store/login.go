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

// LoginDelay returns how long the next login for username from addr must
// wait; zero means it may go ahead now.
func (s *Store) LoginDelay(ctx context.Context, username, addr string) (time.Duration, error) {
	now := s.now()
	username = strings.ToLower(strings.TrimSpace(username))
	var wait time.Duration
	for _, q := range []struct{ column, value string }{{"username", username}, {"client_addr", addr}} {
		var n int
		var last sql.NullInt64
		err := s.reader.QueryRowContext(ctx, `SELECT count(*), max(at) FROM login_failures WHERE `+q.column+` = ? AND at > ?`,
			q.value, now.Add(-LoginWindow).Unix()).Scan(&n, &last)
		if err != nil {
			return 0, err
		}
		if n < LoginFreeFailures {
			continue
		}
		delay := loginFirstDelay << min(n-LoginFreeFailures, 10)
		if delay > loginMaxDelay {
			delay = loginMaxDelay
		}
		if until := time.Unix(last.Int64, 0).Add(delay); until.Sub(now) > wait {
			wait = until.Sub(now)
		}
	}
	return wait, nil
}

// LoginFailed records a failed login for the username typed, from addr.
func (s *Store) LoginFailed(ctx context.Context, actor Actor) error {
	now := s.now()
	username := strings.ToLower(strings.TrimSpace(actor.Username))
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures (at, username, client_addr) VALUES (?, ?, ?)`,
			now.Unix(), username, actor.ClientAddr); err != nil {
			return err
		}
		// Failures older than the window no longer count.
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE at < ?`, now.Add(-time.Hour).Unix()); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, actor, eventRecord{Action: ActionLoginFailed, TargetType: TargetUser, TargetName: username})
	})
}

// LoginThrottled records a login refused because of earlier failures. The
// password was not even checked.
func (s *Store) LoginThrottled(ctx context.Context, actor Actor, wait time.Duration) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		return s.logEvent(ctx, tx, actor, eventRecord{
			Action: ActionLoginThrottled, TargetType: TargetUser, TargetName: strings.ToLower(strings.TrimSpace(actor.Username)),
			Details: map[string]any{"wait_seconds": int(wait.Seconds())},
		})
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
