package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testPassword = "a long enough password"

// login tries a password for username from addr, and says how it went:
// "ok", "bad", or how long it has to wait.
func login(t *testing.T, s *Store, addr, username, password string) string {
	t.Helper()
	_, err := s.Login(context.Background(), Actor{ClientAddr: addr}, username, password)
	var tooMany *TooManyFailures
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrBadLogin):
		return "bad"
	case errors.As(err, &tooMany):
		return "wait " + tooMany.Wait.String()
	}
	t.Fatal(err)
	return ""
}

func TestLoginThrottlesTheAddressNotTheOwner(t *testing.T) {
	s, clock := newTestStore(t)
	u := mustCreateUser(t, s, "admin", RoleAdministrator)
	const attacker, owner = "203.0.113.7", "198.51.100.2"
	for i := range LoginFreeFailures {
		if got := login(t, s, attacker, "admin", "guess"); got != "bad" {
			t.Fatalf("guess %d: %s", i+1, got)
		}
		clock.Advance(time.Second)
	}
	// The sixth waits 30 seconds from the fifth failure, whatever the case
	// of the name; the owner, elsewhere, goes straight in.
	if got := login(t, s, attacker, "ADMIN ", testPassword); got != "wait 29s" {
		t.Fatalf("after 5 failures: %s", got)
	}
	if got := login(t, s, owner, "admin", testPassword); got != "ok" {
		t.Fatalf("owner: %s", got)
	}
	// For an hour the attacker guesses whenever the wait lets them: they
	// spend most of it waiting, and the owner, logging in while they wait,
	// never does.
	ctx := context.Background()
	guesses, refused := 0, 0
	for end := clock.now.Add(time.Hour); clock.now.Before(end); {
		_, err := s.Login(ctx, Actor{ClientAddr: attacker}, "admin", "guess")
		var tooMany *TooManyFailures
		switch {
		case errors.As(err, &tooMany):
			refused++
			if got := login(t, s, owner, "admin", testPassword); got != "ok" {
				t.Fatalf("owner at %v: %s", clock.now, got)
			}
			// The owner's login cleared nothing of the attacker's count.
			if got := login(t, s, attacker, "admin", testPassword); got != "wait "+tooMany.Wait.String() {
				t.Fatalf("attacker after the owner's login: %s", got)
			}
			clock.Advance(tooMany.Wait)
		case errors.Is(err, ErrBadLogin):
			guesses++
		default:
			t.Fatal(err)
		}
	}
	if guesses > 4*8 || refused < 4*4 {
		t.Fatalf("in an hour: %d guesses checked, %d refused", guesses, refused)
	}
	login(t, s, owner, "admin", testPassword)
	got, _ := s.User(ctx, Scope{}, u.ID)
	if !got.LastLoginAt.Equal(clock.now) {
		t.Fatalf("last login %v", got.LastLoginAt)
	}
}

func TestLoginFailuresByUsername(t *testing.T) {
	s, clock := newTestStore(t)
	mustCreateUser(t, s, "admin", RoleAdministrator)
	// Guesses against admin from many addresses, one from each.
	for i := range LoginUserFailures {
		if got := login(t, s, fmt.Sprintf("203.0.113.%d", i), "admin", "guess"); got != "bad" {
			t.Fatalf("guess %d: %s", i, got)
		}
	}
	// They make an address that failed itself wait a short, fixed time
	// after its failure...
	const owner = "198.51.100.2"
	if got := login(t, s, owner, "admin", "typo"); got != "bad" {
		t.Fatalf("owner's typo: %s", got)
	}
	if got := login(t, s, owner, "admin", testPassword); got != "wait 30s" {
		t.Fatalf("owner after a typo: %s", got)
	}
	if got := login(t, s, "203.0.113.3", "admin", "guess"); got != "wait 30s" {
		t.Fatalf("guessing address: %s", got)
	}
	clock.Advance(loginUserDelay)
	if got := login(t, s, owner, "admin", testPassword); got != "ok" {
		t.Fatalf("owner after the short wait: %s", got)
	}
	// ...and a fresh address never waits.
	if got := login(t, s, "192.0.2.200", "admin", testPassword); got != "ok" {
		t.Fatalf("fresh address: %s", got)
	}
}

func TestLoginFailuresByAddress(t *testing.T) {
	s, clock := newTestStore(t)
	mustCreateUser(t, s, "sam", RoleViewer)
	// From one address, failures against many usernames add up.
	for i := range LoginFreeFailures {
		login(t, s, "203.0.113.5", fmt.Sprintf("user%d", i), "guess")
	}
	if got := login(t, s, "203.0.113.5", "sam", testPassword); got != "wait 30s" {
		t.Fatalf("delay for the address: %s", got)
	}
	// Failures older than the window stop counting.
	clock.Advance(LoginWindow)
	if got := login(t, s, "203.0.113.5", "sam", testPassword); got != "ok" {
		t.Fatalf("after the window: %s", got)
	}
	// A success clears the username's failures from that address only.
	for _, addr := range []string{"192.0.2.1", "192.0.2.2"} {
		for range LoginFreeFailures - 1 {
			login(t, s, addr, "sam", "guess")
		}
		login(t, s, addr, "someone", "guess")
	}
	if got := login(t, s, "192.0.2.1", "sam", testPassword); got != "wait 30s" {
		t.Fatalf("after 5 failures: %s", got)
	}
	clock.Advance(30 * time.Second)
	if got := login(t, s, "192.0.2.1", "sam", testPassword); got != "ok" {
		t.Fatal(got)
	}
	if got := login(t, s, "192.0.2.1", "sam", "guess"); got != "bad" {
		t.Fatalf("after a success, two failures left: %s", got)
	}
	// The other address's failures still count: its next failure doubles
	// the wait.
	if got := login(t, s, "192.0.2.2", "sam", "guess"); got != "bad" {
		t.Fatal(got)
	}
	if got := login(t, s, "192.0.2.2", "sam", testPassword); got != "wait 1m0s" {
		t.Fatalf("the other address: %s", got)
	}
}

func TestUnlockAndResetClearFailures(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	mustCreateUser(t, s, "admin", RoleAdministrator)
	fail := func() {
		for i := range LoginFreeFailures + 5 {
			login(t, s, fmt.Sprintf("203.0.113.%d", i), "admin", "guess")
		}
		login(t, s, "203.0.113.1", "someone-else", "guess")
	}
	fail()
	n, err := s.UnlockUser(ctx, testActor, " Admin")
	if err != nil || n != LoginFreeFailures+5 {
		t.Fatalf("unlock cleared %d, %v", n, err)
	}
	if left := count(t, s, "login_failures"); left != 1 {
		t.Fatalf("%d failures left, want the other user's 1", left)
	}
	if _, err := s.UnlockUser(ctx, testActor, "ghost"); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("unlock ghost: %v", err)
	}
	fail()
	if _, err := s.SetPasswordByName(ctx, testActor, "admin", "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if left := count(t, s, "login_failures"); left != 2 {
		t.Fatalf("%d failures left after a reset, want the other user's 2", left)
	}
	var events int
	s.writer.QueryRow(`SELECT count(*) FROM events WHERE action = ?`, ActionUserUnlocked).Scan(&events)
	if events != 1 {
		t.Fatalf("%d unlock events", events)
	}
}

// countPool counts the argon2 computations that run inside the store's pool,
// and the most that ran at once.
type countPool struct {
	running, most, total atomic.Int32
}

func (p *countPool) install(s *Store) {
	s.guard.poolHook = func(argon func()) {
		n := p.running.Add(1)
		for m := p.most.Load(); n > m && !p.most.CompareAndSwap(m, n); m = p.most.Load() {
		}
		argon()
		p.running.Add(-1)
		p.total.Add(1)
	}
}

// TestParallelGuessesFromOneAddress sends guesses at once: they are checked
// one after the other, and only the free ones are hashed.
func TestParallelGuessesFromOneAddress(t *testing.T) {
	s, _ := newTestStore(t)
	mustCreateUser(t, s, "admin", RoleAdministrator)
	var pool countPool
	pool.install(s)
	var mu sync.Mutex
	results := map[string]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := s.Login(context.Background(), Actor{ClientAddr: "203.0.113.9"}, "admin", "guess")
			var tooMany *TooManyFailures
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ErrBadLogin):
				results["bad"]++
			case errors.As(err, &tooMany):
				results["wait"]++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if results["bad"] != LoginFreeFailures || results["wait"] != 8-LoginFreeFailures || pool.total.Load() != LoginFreeFailures {
		t.Fatalf("results %v, %d hashed", results, pool.total.Load())
	}
	if len(s.guard.busy) != 0 {
		t.Fatalf("%d addresses still held in memory", len(s.guard.busy))
	}
}

// TestEveryPasswordCheckUsesThePool runs every kind of password check and
// hash at once: each goes through the pool, which never runs more than its
// size.
func TestEveryPasswordCheckUsesThePool(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	u := mustCreateUser(t, s, "pat", RoleViewer)
	var pool countPool
	pool.install(s)
	const each = 6
	var wg sync.WaitGroup
	// Each check from its own address, so that none is throttled.
	for i := range each {
		wg.Go(func() { s.Login(ctx, Actor{ClientAddr: fmt.Sprintf("192.0.2.%d", i)}, "pat", "wrong password") })
		wg.Go(func() { s.Login(ctx, Actor{ClientAddr: fmt.Sprintf("192.0.3.%d", i)}, "nobody", "wrong password") })
		wg.Go(func() {
			s.ChangePassword(ctx, Actor{UserID: u.ID, ClientAddr: fmt.Sprintf("192.0.4.%d", i)}, u.ID, "wrong password", "a new long password")
		})
		wg.Go(func() {
			if _, err := s.CreateUser(ctx, testActor, NewUser{Username: fmt.Sprintf("new%d", i), Password: testPassword, RoleID: RoleViewer}); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() { s.Authenticate(ctx, "pat", testPassword) })
	}
	wg.Wait()
	if got, want := pool.total.Load(), int32(5*each); got != want {
		t.Fatalf("%d argon2 computations in the pool, want %d", got, want)
	}
	if most := pool.most.Load(); most > int32(cap(s.hashing)) {
		t.Fatalf("%d ran at once, more than the pool's %d", most, cap(s.hashing))
	}
	// A reset hashes in the pool too.
	if _, err := s.SetPasswordByName(ctx, testActor, "pat", "another long password"); err != nil || pool.total.Load() != 5*each+1 {
		t.Fatalf("reset: %v, %d in the pool", err, pool.total.Load())
	}
}

// TestPoolGivesUpWithTheRequest: a check waiting for the pool ends with its
// context.
func TestPoolGivesUpWithTheRequest(t *testing.T) {
	s, _ := newTestStore(t)
	for range cap(s.hashing) {
		s.hashing <- struct{}{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.passwordMatches(ctx, dummyHash, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("a check with a full pool and a cancelled context: %v", err)
	}
}

// TestDummyHashIsWellFormed: an unknown username must cost a full argon2
// check, so the hash it is checked against must parse like a real one.
func TestDummyHashIsWellFormed(t *testing.T) {
	real := strings.Split(hashPassword("x"), "$")
	dummy := strings.Split(dummyHash, "$")
	if len(dummy) != len(real) || dummy[1] != real[1] || dummy[2] != real[2] || dummy[3] != real[3] {
		t.Fatalf("dummy hash %q does not match the parameters of %q", dummyHash, strings.Join(real, "$"))
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(dummy[4])
	key, err2 := base64.RawStdEncoding.DecodeString(dummy[5])
	if err1 != nil || err2 != nil || len(salt) != argonSaltLen || len(key) != argonKeyLen {
		t.Fatalf("dummy hash: salt %d bytes (%v), key %d bytes (%v)", len(salt), err1, len(key), err2)
	}
}

func TestChangePasswordIsThrottled(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	u := mustCreateUser(t, s, "pat", RoleViewer)
	me := Actor{UserID: u.ID, Username: "pat", ClientAddr: "203.0.113.4"}
	for i := range LoginFreeFailures {
		_, err := s.ChangePassword(ctx, me, u.ID, "wrong password", "a new long password")
		if e, ok := err.(*Error); !ok || e.Field != "current" {
			t.Fatalf("guess %d: %v", i+1, err)
		}
	}
	var tooMany *TooManyFailures
	if _, err := s.ChangePassword(ctx, me, u.ID, testPassword, "a new long password"); !errors.As(err, &tooMany) || tooMany.Wait != 30*time.Second {
		t.Fatalf("the right password after 5 failures: %v", err)
	}
	// The failures count for logins from there too, and are in the audit log.
	if got := login(t, s, me.ClientAddr, "pat", testPassword); got != "wait 30s" {
		t.Fatalf("login: %s", got)
	}
	var events int
	s.writer.QueryRow(`SELECT count(*) FROM events WHERE action = ? AND target_name = 'pat' AND actor_username = 'pat'`, ActionLoginFailed).Scan(&events)
	if events != LoginFreeFailures {
		t.Fatalf("%d failure events", events)
	}
	clock.Advance(30 * time.Second)
	if _, err := s.ChangePassword(ctx, me, u.ID, testPassword, "a new long password"); err != nil {
		t.Fatal(err)
	}
}

func TestLoginNameIsBounded(t *testing.T) {
	if got := LoginName("  ADMIN "); got != "admin" {
		t.Fatalf("LoginName = %q", got)
	}
	if got := LoginName(strings.Repeat("x", 100000)); len(got) != MaxUsernameLen {
		t.Fatalf("a long name is kept at %d characters", len(got))
	}
}

func TestLoginNameRemovesKeys(t *testing.T) {
	key := NewSecret()
	typo := key[:len(key)-1] + string(key[len(key)-1]^1)
	for _, tc := range []struct{ typed, want string }{
		{key, KeyRemoved},
		{" " + key + " ", KeyRemoved},
		{"Admin" + key + "X" + key, "admin" + KeyRemoved + "x" + KeyRemoved},
		{"kd_kd_" + key, "kd_kd_" + KeyRemoved},
		{strings.Repeat("y", 100) + key, strings.Repeat("y", MaxUsernameLen)},
		{typo, strings.ToLower(typo)}, // a wrong checksum is no key
	} {
		if got := LoginName(tc.typed); got != tc.want {
			t.Errorf("LoginName(%q) = %q, want %q", tc.typed, got, tc.want)
		}
	}
}

func TestKeyTypedAsUsernameIsNotKept(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	_, key := mustCreateKey(t, s, NewKey{Name: "pasted"})
	for _, typed := range []string{key, "admin " + key} {
		if got := login(t, s, "192.0.2.9", typed, "a wrong password"); got != "bad" {
			t.Fatal(got)
		}
	}
	if _, err := s.UnlockUser(ctx, testActor, key); err == nil || strings.Contains(err.Error(), key[3:]) || strings.Contains(err.Error(), strings.ToLower(key[3:])) {
		t.Fatalf("unlock a key: %v", err)
	}
	var failures, events, leaks int
	s.writer.QueryRow(`SELECT count(*) FROM login_failures WHERE username LIKE ?`, "%"+KeyRemoved+"%").Scan(&failures)
	s.writer.QueryRow(`SELECT count(*) FROM events WHERE action = ?1 AND target_name LIKE ?2 AND actor_username LIKE ?2`,
		ActionLoginFailed, "%"+KeyRemoved+"%").Scan(&events)
	if failures != 2 || events != 2 {
		t.Fatalf("%d failures and %d events with the marker", failures, events)
	}
	// Nothing anywhere holds the key's random part, in any case.
	tables := []string{"events", "login_failures"}
	if !onPostgres {
		tables = append(tables, "event_search")
	}
	for _, table := range tables {
		rows, err := s.writer.Query(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					vals[i] = string(b)
				}
			}
			if row := strings.ToLower(fmt.Sprint(vals...)); strings.Contains(row, strings.ToLower(key[3:20])) {
				leaks++
			}
		}
		rows.Close()
	}
	if leaks != 0 {
		t.Fatalf("%d rows hold the key", leaks)
	}
}

func TestKeyIsNoUsername(t *testing.T) {
	s, _ := newTestStore(t)
	_, key := mustCreateKey(t, s, NewKey{Name: "k"})
	for _, name := range []string{key, "ops-" + key} {
		_, err := s.CreateUser(context.Background(), testActor, NewUser{Username: name, Password: testPassword, RoleID: RoleViewer})
		if e, ok := err.(*Error); !ok || e.Field != "username" || strings.Contains(e.Message, key) {
			t.Errorf("create user %q: %v", name, err)
		}
	}
	if n := count(t, s, "users"); n != 0 {
		t.Fatalf("%d users", n)
	}
}

// TestIPv6NetworksCountAsOneAddress guesses from five addresses of one
// /64 network: the sixth address of that network waits, and a neighbouring
// network does not.
func TestIPv6NetworksCountAsOneAddress(t *testing.T) {
	s, _ := newTestStore(t)
	mustCreateUser(t, s, "sam", RoleViewer)
	for i := range LoginFreeFailures {
		if got := login(t, s, fmt.Sprintf("2001:db8:0:1::%x", i+1), "sam", "guess"); got != "bad" {
			t.Fatalf("guess %d: %s", i+1, got)
		}
	}
	if got := login(t, s, "2001:db8:0:1:ffff::9", "sam", testPassword); got != "wait 30s" {
		t.Fatalf("another address of the same /64: %s", got)
	}
	if got := login(t, s, "2001:db8:0:2::1", "sam", testPassword); got != "ok" {
		t.Fatalf("the next /64: %s", got)
	}
	for addr, want := range map[string]string{
		"192.0.2.7": "192.0.2.7", "::ffff:192.0.2.7": "::ffff:192.0.2.7", "2001:db8::1": "2001:db8::/64", "not an address": "not an address",
	} {
		if got := throttleAddr(addr); got != want {
			t.Errorf("throttleAddr(%q) = %q, want %q", addr, got, want)
		}
	}
}

// TestWaitingChecksAreBounded holds an address's turn and queues checks
// behind it: past maxWaitingChecks, a check is told to wait at once.
func TestWaitingChecksAreBounded(t *testing.T) {
	var g passwordGuard
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	unlock, err := g.lock(ctx, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range maxWaitingChecks - 1 {
		wg.Go(func() {
			if u, err := g.lock(ctx, "192.0.2.1"); err == nil {
				u()
			}
		})
	}
	waiting := func() int {
		g.mu.Lock()
		defer g.mu.Unlock()
		if t := g.busy["192.0.2.1"]; t != nil {
			return t.waiting
		}
		return 0
	}
	for deadline := time.Now().Add(10 * time.Second); waiting() < maxWaitingChecks; {
		if time.Now().After(deadline) {
			t.Fatalf("%d checks waiting", waiting())
		}
		runtime.Gosched()
	}
	var tooMany *TooManyFailures
	if _, err := g.lock(ctx, "192.0.2.1"); !errors.As(err, &tooMany) {
		t.Fatalf("one check too many: %v", err)
	}
	// Another address is not held up.
	other, err := g.lock(ctx, "192.0.2.2")
	if err != nil {
		t.Fatal(err)
	}
	other()
	unlock()
	wg.Wait()
	if n := waiting(); n != 0 {
		t.Fatalf("%d left waiting", n)
	}
}
