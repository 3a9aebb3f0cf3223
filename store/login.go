package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Password checks are throttled by client address: after LoginFreeFailures
// failures from one address within LoginWindow, each further check from it
// waits longer, 30 seconds after the fifth failure, doubling to at most 15
// minutes since its last failure. Failures against one username add up across
// addresses too, but only to slow addresses that have failed themselves, and
// only for a short fixed time: nobody can keep the owner of an account out.
const (
	LoginFreeFailures = 5
	LoginWindow       = 15 * time.Minute
	loginFirstDelay   = 30 * time.Second
	loginMaxDelay     = 15 * time.Minute

	// LoginUserFailures failures against one username within LoginWindow
	// make an address with failures of its own wait loginUserDelay after
	// its last one.
	LoginUserFailures = 10
	loginUserDelay    = 30 * time.Second
)

// throttleAddr is the client address that failures count against: an IPv4
// address, or an IPv6 address's /64 network, which one subscriber usually
// holds whole; otherwise each of its 2^64 addresses would get its own free
// guesses.
func throttleAddr(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Is4() || ip.Is4In6() {
		return addr
	}
	prefix, err := ip.Prefix(64)
	if err != nil {
		return addr
	}
	return prefix.String()
}

// KeyRemoved stands in for an API key typed where a username was asked for,
// so that the key is never stored or logged.
const KeyRemoved = "[API key removed]"

// LoginName is how a typed username is recorded and throttled: any API key
// in it replaced by KeyRemoved, trimmed, lowercased, and cut to the longest
// username there can be, so that nobody can write a megabyte into the audit
// log by typing it.
func LoginName(typed string) string {
	var b strings.Builder
	for rest := typed; rest != ""; {
		i := keyIndex(rest)
		if i < 0 {
			b.WriteString(strings.ToLower(rest))
			break
		}
		// Keys are case-sensitive, so they are found before lowercasing.
		b.WriteString(strings.ToLower(rest[:i]))
		b.WriteString(KeyRemoved)
		rest = rest[i+SecretLen:]
	}
	name := strings.TrimSpace(b.String())
	if r := []rune(name); len(r) > MaxUsernameLen {
		name = string(r[:MaxUsernameLen])
	}
	return name
}

// keyIndex returns where the first well-formed API key in s begins, or -1.
func keyIndex(s string) int {
	for off := 0; ; {
		i := strings.Index(s[off:], secretPrefix)
		if i < 0 {
			return -1
		}
		at := off + i
		if at+SecretLen <= len(s) && WellFormedSecret(s[at:at+SecretLen]) {
			return at
		}
		off = at + 1
	}
}

// holdsKey reports whether s contains a well-formed API key.
func holdsKey(s string) bool { return keyIndex(s) >= 0 }

// TooManyFailures refuses a password check that earlier failures hold back,
// without looking at the password. Wait is how long until one may go ahead.
type TooManyFailures struct {
	Wait time.Duration
}

func (e *TooManyFailures) Error() string {
	return fmt.Sprintf("too many failed password checks: wait %v", e.Wait)
}

// passwordGuard serialises password checks per client address, so that each
// check sees the failures of the ones before it and guesses sent in parallel
// cannot slip past the count. It keeps memory only for addresses with a
// check running or waiting.
type passwordGuard struct {
	mu   sync.Mutex
	busy map[string]*addrTurn

	// poolHook, when set, runs each argon2 computation inside the pool:
	// tests count with it.
	poolHook func(argon func())
}

type addrTurn struct {
	token   chan struct{} // holds one value while a check runs
	waiting int           // checks running or waiting, for freeing the entry
}

// maxWaitingChecks bounds the password checks one address may have waiting:
// each holds a request and its form, and a flood of them from one address
// would hold memory for nothing, since they run one at a time.
const maxWaitingChecks = 16

// lock waits for the address's turn, or for ctx to end; unlock gives it up.
// An address with maxWaitingChecks already waiting is told to wait.
func (g *passwordGuard) lock(ctx context.Context, addr string) (unlock func(), err error) {
	addr = throttleAddr(addr)
	g.mu.Lock()
	if g.busy == nil {
		g.busy = map[string]*addrTurn{}
	}
	t := g.busy[addr]
	if t == nil {
		t = &addrTurn{token: make(chan struct{}, 1)}
		g.busy[addr] = t
	}
	if t.waiting >= maxWaitingChecks {
		g.mu.Unlock()
		return nil, &TooManyFailures{Wait: time.Second}
	}
	t.waiting++
	g.mu.Unlock()
	release := func() {
		g.mu.Lock()
		if t.waiting--; t.waiting == 0 {
			delete(g.busy, addr)
		}
		g.mu.Unlock()
	}
	select {
	case t.token <- struct{}{}:
		return func() { <-t.token; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// lockAddress waits for the address's turn to have a password checked,
// in this instance (the guard) and then across every instance on the
// database, so that guesses sent to several at once are checked one
// after the other too.
func (s *Store) lockAddress(ctx context.Context, addr string) (unlock func(), err error) {
	unlockHere, err := s.guard.lock(ctx, addr)
	if err != nil {
		return nil, err
	}
	unlockThere, err := s.db.LockName(ctx, "password check "+throttleAddr(addr))
	if err != nil {
		unlockHere()
		return nil, err
	}
	return func() { unlockThere(); unlockHere() }, nil
}

// Login checks a username and password from the login form, from
// actor.ClientAddr. A wrong password, an unknown user and a disabled account
// all give ErrBadLogin and are recorded as a failure; a check that earlier
// failures hold back gives *TooManyFailures. A success is recorded, and
// clears the username's failures from this address.
func (s *Store) Login(ctx context.Context, actor Actor, username, password string) (User, error) {
	actor.UserID, actor.Username = 0, LoginName(username)
	unlock, err := s.lockAddress(ctx, actor.ClientAddr)
	if err != nil {
		return User{}, err
	}
	defer unlock()
	if err := s.throttle(ctx, actor.Username, actor.ClientAddr); err != nil {
		return User{}, err
	}
	u, err := s.authenticate(ctx, actor.Username, password)
	if errors.Is(err, ErrBadLogin) {
		failed := eventRecord{Action: ActionLoginFailed, TargetType: TargetUser, TargetName: actor.Username}
		if err := s.passwordFailed(ctx, actor, actor.Username, failed); err != nil {
			return User{}, err
		}
		return User{}, ErrBadLogin
	} else if err != nil {
		return User{}, err
	}
	actor.UserID, actor.Username = u.ID, u.Username
	err = s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := clearFailures(ctx, tx, u.Username, actor.ClientAddr); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET last_login_at = ? WHERE id = ?`, now.Unix(), u.ID); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, now, actor, userEvent(ActionLoginSucceeded, u, nil, nil))
	})
	return u, err
}

// throttle returns *TooManyFailures when earlier failures hold back a
// password check for username from addr.
func (s *Store) throttle(ctx context.Context, username, addr string) error {
	addr = throttleAddr(addr)
	now := s.now()
	since := now.Add(-LoginWindow).Unix()
	var wait time.Duration
	err := s.read(ctx, func(tx *sql.Tx) error {
		var n int
		var last sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT count(*), max(at) FROM login_failures WHERE client_addr = ? AND at > ?`,
			addr, since).Scan(&n, &last)
		if err != nil || n == 0 {
			// An address with no recent failures always goes ahead.
			return err
		}
		lastAt := time.Unix(last.Int64, 0)
		if n >= LoginFreeFailures {
			delay := min(loginFirstDelay<<min(n-LoginFreeFailures, 10), loginMaxDelay)
			wait = max(wait, lastAt.Add(delay).Sub(now))
		}
		if lastAt.Add(loginUserDelay).After(now) {
			var byName int
			err := tx.QueryRowContext(ctx, `SELECT count(*) FROM login_failures WHERE username = ? AND at > ?`,
				username, since).Scan(&byName)
			if err != nil {
				return err
			}
			if byName >= LoginUserFailures {
				wait = max(wait, lastAt.Add(loginUserDelay).Sub(now))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if wait > 0 {
		return &TooManyFailures{Wait: wait}
	}
	return nil
}

// passwordFailed counts a failed password check against username from
// actor's address, and records ev in the audit log.
func (s *Store) passwordFailed(ctx context.Context, actor Actor, username string, ev eventRecord) error {
	// A guess counts whether or not its client waited for the answer.
	ctx = context.WithoutCancel(ctx)
	return s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures (at, username, client_addr) VALUES (?, ?, ?)`,
			now.Unix(), username, throttleAddr(actor.ClientAddr)); err != nil {
			return err
		}
		// Failures older than the window no longer count.
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE at <= ?`, now.Add(-LoginWindow).Unix()); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, now, actor, ev)
	})
}

// clearFailures forgets the failures of username from addr, after a right
// password from there. Failures from other addresses still count.
func clearFailures(ctx context.Context, tx *sql.Tx, username, addr string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE username = ? AND client_addr = ?`, username, throttleAddr(addr))
	return err
}

// checkCurrentPassword checks the password a logged-in user typed again to
// confirm a change, with the same throttle and records as a login. On
// success it returns unlock, which the caller calls once the change is
// made, so that the next check from the address waits for it.
func (s *Store) checkCurrentPassword(ctx context.Context, actor Actor, u User, hash, password string) (func(), error) {
	unlock, err := s.lockAddress(ctx, actor.ClientAddr)
	if err != nil {
		return nil, err
	}
	if err := s.checkLocked(ctx, actor, u, hash, password); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// checkLocked is checkCurrentPassword once the address's turn has come.
func (s *Store) checkLocked(ctx context.Context, actor Actor, u User, hash, password string) error {
	if err := s.throttle(ctx, u.Username, actor.ClientAddr); err != nil {
		return err
	}
	ok, err := s.passwordMatches(ctx, hash, password)
	if err != nil {
		return err
	}
	if !ok {
		failed := eventRecord{Action: ActionLoginFailed, TargetType: TargetUser, TargetID: strconv.FormatInt(u.ID, 10),
			TargetName: u.Username, Details: map[string]any{"check": "current password"}}
		if err := s.passwordFailed(ctx, actor, u.Username, failed); err != nil {
			return err
		}
		return &Error{Code: EINVALID, Field: "current", Message: "This is not your current password."}
	}
	return s.write(ctx, func(tx *sql.Tx, now time.Time) error { return clearFailures(ctx, tx, u.Username, actor.ClientAddr) })
}
