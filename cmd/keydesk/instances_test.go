package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keydesk/keydesk/internal/pgtest"
	"github.com/keydesk/keydesk/store"
)

// verifyAt asks the instance at base about secret, as a service does, and
// returns the answer's code ("" when the key is valid).
func verifyAt(t *testing.T, base, secret string) string {
	t.Helper()
	code, err := verifyAnswer(base, secret)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// verifyAnswer is verifyAt for goroutines, which may not end the test.
func verifyAnswer(base, secret string) (string, error) {
	body, _ := json.Marshal(map[string]string{"key": secret})
	res, err := http.Post(base+"/api/v1/keys/verify", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct {
		Valid bool
		Code  string
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("verify: %s: %w", res.Status, err)
	}
	if out.Valid != (out.Code == "") {
		return "", fmt.Errorf("verify: valid %v with code %q", out.Valid, out.Code)
	}
	return out.Code, nil
}

// TestTwoInstancesOnPostgres runs `keydesk serve` twice, as two processes
// on one PostgreSQL database: a key revoked through one is refused by the
// other soon after, and never accepted again, in each of 200 trials (the
// delays are logged: p50 and p99); a key's rate limit holds across both;
// a session made through one works on the other, until a logout through
// either; and when one is killed with SIGKILL, the other keeps answering.
func TestTwoInstancesOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts two servers and makes 200 revocations")
	}
	db := pgtest.URL(t)
	a := startKeydesk(t, db, "a")
	b := startKeydesk(t, db, "b")
	ctx := context.Background()
	st, err := store.OpenExisting(ctx, db) // makes the keys, as a third instance
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	maker := store.SystemActor("test")
	newKey := func(name string, capacity, frequency int) (store.Key, string) {
		t.Helper()
		k, secret, err := st.CreateKey(ctx, maker, store.NewKey{Name: name, Permissions: []string{"chat"}, Enabled: true, Capacity: capacity, Frequency: frequency})
		if err != nil {
			t.Fatal(err)
		}
		return k, secret
	}

	cl := logIn(t, a.url)
	// The session made through one instance works on the other: the
	// cookie jar gives 127.0.0.1's cookies to both ports.
	keysPage := func(base string) int {
		t.Helper()
		res, err := cl.http.Get(base + "/keys")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := keysPage(b.url); code != http.StatusOK {
		t.Fatalf("the other instance answers the session with %d", code)
	}
	const trials = 200
	delays := make([]time.Duration, 0, trials)
	for i := range trials {
		k, secret := newKey(fmt.Sprintf("trial-%03d", i), store.MaxCapacity, 1)
		if code := verifyAt(t, b.url, secret); code != "" { // b caches it
			t.Fatalf("trial %d: a new key answered %q", i, code)
		}
		res, body, err := cl.post("/keys/"+k.ID+"/revoke", url.Values{})
		if err != nil || res.StatusCode >= 400 {
			t.Fatalf("trial %d: revoke through one instance: %v %v\n%s", i, res, err, body)
		}
		revoked := time.Now()
		for {
			code := verifyAt(t, b.url, secret)
			if code == store.CodeRevoked {
				break
			}
			if code != "" || time.Since(revoked) > 10*time.Second {
				t.Fatalf("trial %d: the other instance answers %q %s after the revocation", i, code, time.Since(revoked))
			}
			time.Sleep(time.Millisecond)
		}
		delays = append(delays, time.Since(revoked))
		for range 3 {
			if code := verifyAt(t, b.url, secret); code != store.CodeRevoked {
				t.Fatalf("trial %d: refused, then %q", i, code)
			}
		}
	}
	slices.Sort(delays)
	t.Logf("revocation through one instance refused by the other after: p50 %s, p99 %s, max %s (%d trials; polled every millisecond)",
		delays[trials/2], delays[trials*99/100], delays[trials-1], trials)

	// Asked of both at once, a key passes its capacity at most: exactly,
	// for five an hour, which each instance reserves one at a time; for
	// 80 an hour, each reserves batches of up to 10 and spends them from
	// memory, and what one holds at the end the other cannot spend.
	for _, limit := range []struct{ capacity, tries, least int }{{5, 5, 5}, {80, 20, 80 - 2*10}} {
		_, secret := newKey(fmt.Sprintf("limited-%d", limit.capacity), limit.capacity, 3600)
		var passed, limited atomic.Int64
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				base := []string{a.url, b.url}[i%2]
				for range limit.tries {
					code, err := verifyAnswer(base, secret)
					switch {
					case err != nil:
						t.Error(err)
						return
					case code == "":
						passed.Add(1)
					case code == store.CodeRateLimited:
						limited.Add(1)
					default:
						t.Errorf("rate limit: %q", code)
					}
				}
			})
		}
		wg.Wait()
		if p := int(passed.Load()); p > limit.capacity || p < limit.least || p+int(limited.Load()) != 8*limit.tries {
			t.Fatalf("through two instances, %d of %d passed and %d were limited, for a capacity of %d",
				p, 8*limit.tries, limited.Load(), limit.capacity)
		}
	}

	// A logout through the other instance ends the session on both.
	there := *cl
	there.base = b.url
	if res, body, err := there.post("/logout", url.Values{}); err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("log out through the other instance: %v %v\n%s", res, err, body)
	}
	if code := keysPage(a.url); code != http.StatusSeeOther {
		t.Fatalf("after a logout through the other instance, the session still opens the keys (%d)", code)
	}

	// One instance dies without a word; the other answers on.
	_, survivor := newKey("survivor", store.MaxCapacity, 1)
	a.kill()
	for range 20 {
		if code := verifyAt(t, b.url, survivor); code != "" {
			t.Fatalf("after the other instance was killed: %q", code)
		}
	}
}
