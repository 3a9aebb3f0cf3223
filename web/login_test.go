package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keydesk/keydesk/store"
)

// postFrom posts a form with the CSRF token from the client address addr.
func (cl *client) postFrom(addr, path string, form url.Values) response {
	form = cloneValues(form)
	form.Set("_csrf", cl.csrf())
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = addr + ":40000"
	return cl.do(req)
}

func TestOwnerLogsInWhileAnAttackerGuesses(t *testing.T) {
	tc := newTestConsole(t)
	const attacker, owner = "203.0.113.7", "198.51.100.2"
	bad := url.Values{"username": {"admin"}, "password": {"not the password"}}
	good := url.Values{"username": {"admin"}, "password": {testPassword}}
	mallory := tc.client()
	for range store.LoginFreeFailures {
		wantStatus(t, mallory.postFrom(attacker, "/login", bad), http.StatusUnprocessableEntity)
	}
	// A guess each time the wait ends keeps the attacker's address waiting,
	// ever longer; the owner, from another address, logs in every time.
	for i := range 5 {
		res := mallory.postFrom(attacker, "/login", good)
		wantStatus(t, res, http.StatusTooManyRequests)
		secs, err := strconv.Atoi(res.Header().Get("Retry-After"))
		if err != nil || secs != 30<<i {
			t.Fatalf("round %d: Retry-After %q", i, res.Header().Get("Retry-After"))
		}
		wantStatus(t, tc.client().postFrom(owner, "/login", good), http.StatusSeeOther)
		tc.clock.now = tc.clock.now.Add(time.Duration(secs) * time.Second)
		wantStatus(t, mallory.postFrom(attacker, "/login", bad), http.StatusUnprocessableEntity)
	}
}

// TestConcurrentCorrectLoginsFromOneAddress: an attempt still being checked
// is no failure, so browsers behind one address all get in.
func TestConcurrentCorrectLoginsFromOneAddress(t *testing.T) {
	tc := newTestConsole(t)
	codes := postAtOnce(tc, 8, url.Values{"username": {"admin"}, "password": {testPassword}})
	if codes[http.StatusSeeOther] != 8 {
		t.Fatalf("statuses %v, want 8 logins", codes)
	}
}

// TestConcurrentGuessesFromOneAddress: guesses sent at once are checked one
// after the other, so only the free ones are checked.
func TestConcurrentGuessesFromOneAddress(t *testing.T) {
	tc := newTestConsole(t)
	codes := postAtOnce(tc, 8, url.Values{"username": {"admin"}, "password": {"not the password"}})
	if codes[http.StatusUnprocessableEntity] != store.LoginFreeFailures || codes[http.StatusTooManyRequests] != 8-store.LoginFreeFailures {
		t.Fatalf("statuses %v, want %d checked and the rest throttled", codes, store.LoginFreeFailures)
	}
}

// postAtOnce posts the login form n times at once, from n browsers behind
// one address, and counts the statuses.
func postAtOnce(tc *testConsole, n int, form url.Values) map[int]int {
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = tc.client()
		clients[i].csrf()
	}
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for _, cl := range clients {
		wg.Go(func() {
			res := cl.postFrom("192.0.2.50", "/login", form)
			mu.Lock()
			codes[res.Code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return codes
}

func TestProfilePasswordCheckIsThrottled(t *testing.T) {
	tc := newTestConsole(t)
	cl := tc.loggedIn("viewer")
	const addr = "203.0.113.40"
	change := func(current string) response {
		return cl.postFrom(addr, "/profile/password", url.Values{"current": {current}, "password": {"a fresh long password"}, "confirm": {"a fresh long password"}})
	}
	for range store.LoginFreeFailures {
		res := change("wrong wrong wrong")
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if res.testid("current-error") == "" {
			t.Fatal("no message beside the current password")
		}
	}
	// Now even the right password waits, and the field says how long.
	for _, current := range []string{"wrong wrong wrong", testPassword} {
		res := change(current)
		wantStatus(t, res, http.StatusTooManyRequests)
		if res.Header().Get("Retry-After") != "30" || !strings.Contains(res.testid("current-error"), "Try again in 30 seconds") {
			t.Fatalf("Retry-After %q, message %q", res.Header().Get("Retry-After"), res.testid("current-error"))
		}
	}
	tc.clock.now = tc.clock.now.Add(30 * time.Second)
	wantStatus(t, change(testPassword), http.StatusSeeOther)
	if _, err := tc.store.Authenticate(context.Background(), "viewer", "a fresh long password"); err != nil {
		t.Fatal(err)
	}
}

func TestKeyTypedAsUsernameIsNotKept(t *testing.T) {
	tc := newTestConsole(t)
	_, secret, err := tc.store.CreateKey(context.Background(), store.Actor{Username: "admin"}, store.NewKey{
		Name: "pasted", Permissions: []string{"chat"}, Enabled: true, Capacity: 120, Frequency: 60})
	if err != nil {
		t.Fatal(err)
	}
	last := tc.lastEventID()
	for _, typed := range []string{secret, " " + secret, "admin " + secret} {
		res := tc.client().post("/login", url.Values{"username": {typed}, "password": {"a wrong password"}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
	}
	evs := tc.eventsSince(last)
	if len(evs) != 3 {
		t.Fatalf("%d events", len(evs))
	}
	for _, e := range evs {
		if e.Action != store.ActionLoginFailed || !strings.Contains(e.TargetName, store.KeyRemoved) || !strings.Contains(e.ActorUsername, store.KeyRemoved) {
			t.Fatalf("event %s %q by %q", e.Action, e.TargetName, e.ActorUsername)
		}
	}
	admin := tc.loggedIn("admin")
	for _, page := range []string{"/events", "/events/export.csv"} {
		body := admin.get(page).Body.String()
		for _, leak := range []string{secret, strings.ToLower(secret), secret[3:33], strings.ToLower(secret[3:33])} {
			if strings.Contains(body, leak) {
				t.Fatalf("%s holds the key", page)
			}
		}
		if !strings.Contains(body, "API key removed") {
			t.Fatalf("%s lacks the failed logins", page)
		}
	}
}

// TestPasswordFormsTakeSmallBodies posts a login of 64 KB: refused before
// any password is checked, while the same size is fine elsewhere.
func TestPasswordFormsTakeSmallBodies(t *testing.T) {
	tc := newTestConsole(t)
	cl := tc.client()
	big := strings.Repeat("x", 64<<10)
	res := cl.post("/login", url.Values{"username": {"admin"}, "password": {testPassword}, "padding": {big}})
	wantStatus(t, res, http.StatusRequestEntityTooLarge)
	if res := cl.get("/keys"); res.Code != http.StatusSeeOther {
		t.Fatalf("logged in anyway: %d", res.Code)
	}
	admin := tc.loggedIn("admin")
	res = admin.post("/keys/test", url.Values{"key": {"kd_nope"}, "padding": {big}})
	wantStatus(t, res, http.StatusOK)
}
