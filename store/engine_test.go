package store

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keydesk/keydesk/internal/pgtest"
	"github.com/keydesk/keydesk/store/postgres"
)

var onPostgres = pgtest.OnPostgres()

// TestMain runs the tests on SQLite and on PostgreSQL (see pgtest.Both):
// newTestStore opens each test's store on the engine of its process.
func TestMain(m *testing.M) { os.Exit(pgtest.Both("store", m.Run)) }

// testDatabase is where newTestStore opens a test's store.
func testDatabase(t testing.TB) string { return pgtest.Database(t) }

// sqliteOnly skips, in the PostgreSQL half, a test of what only the SQLite
// engine has: its file, its migrations, its query planner.
func sqliteOnly(t testing.TB, what string) {
	t.Helper()
	if onPostgres {
		t.Skip("SQLite's own: " + what)
	}
}

// TestEveryCommandOpensPostgres: the command line's --db takes a
// postgres:// URL for serve (Open) and the other commands (OpenExisting)
// alike, and the lock that keeps a second server off a SQLite file keeps
// no instance off PostgreSQL.
func TestEveryCommandOpensPostgres(t *testing.T) {
	if !onPostgres {
		t.Skip("the PostgreSQL half opens a postgres:// URL")
	}
	url := testDatabase(t)
	for _, open := range []func(context.Context, string) (*Store, error){Open, OpenExisting} {
		s, err := open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := neturl.Parse(url)
		if password, _ := u.User.Password(); !strings.HasPrefix(s.Path(), "postgres://") || password != "" && strings.Contains(s.Path(), ":"+password+"@") {
			t.Errorf("the database is named %q", s.Path())
		}
		s.Close()
	}
	for range 2 {
		lock, err := LockServer(url)
		if err != nil {
			t.Fatalf("a second instance on PostgreSQL: %v", err)
		}
		defer lock.Release()
	}
}

// TestInstancesWriteOneAtATime: two stores on one PostgreSQL database,
// as two instances are, create keys for one user at once under a policy
// of three keys per user; the check and the write of each creation run
// as one, so exactly three are made, whichever store made them.
func TestInstancesWriteOneAtATime(t *testing.T) {
	stores := twoInstances(t)
	ctx := context.Background()
	orgs, err := stores[0].Orgs(ctx, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stores[0].SetOrgPolicy(ctx, testActor, orgs[0].ID, Policy{APIKeysEnabled: true, MaxKeysPerUser: 3}); err != nil {
		t.Fatal(err)
	}
	sam := Actor{UserID: 42, Username: "sam"}
	var made atomic.Int64
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			_, _, err := stores[i%2].CreateKey(ctx, sam, NewKey{Name: fmt.Sprintf("key-%d", i), Permissions: []string{"chat"}, Capacity: 1, Frequency: 1})
			switch {
			case err == nil:
				made.Add(1)
			case ErrorCode(err) != EINVALID:
				t.Errorf("key-%d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if made.Load() != 3 {
		t.Fatalf("%d keys made under a policy of 3 per user", made.Load())
	}
}

// twoInstances opens two stores on one PostgreSQL database, as two
// instances of Keydesk do; on SQLite it skips t.
func twoInstances(t *testing.T) [2]*Store {
	t.Helper()
	if !onPostgres {
		t.Skip("instances share a PostgreSQL database; SQLite's file has one server")
	}
	url := testDatabase(t)
	var stores [2]*Store
	for i := range stores {
		s, err := open(context.Background(), url, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	return stores
}

// TestInstancesHearEachOthersChanges: a key that one instance verified,
// and so cached, is refused there once another instance revokes it or
// switches its organization's keys off, and never accepted again; after
// the change feed's connection is cut, changes made meanwhile are heard
// too.
func TestInstancesHearEachOthersChanges(t *testing.T) {
	stores := twoInstances(t)
	ctx := context.Background()
	here, there := stores[0], stores[1]
	_, acme, _, _ := testOrgs(t, here)
	verify := func(secret, want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			v, err := there.VerifyKey(ctx, secret, "", "")
			if err != nil {
				t.Fatal(err)
			}
			if v.Code == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the other instance answers %q, want %q", v.Code, want)
			}
			time.Sleep(2 * time.Millisecond)
		}
		for range 20 { // and keeps to it
			if v, _ := there.VerifyKey(ctx, secret, "", ""); v.Code != want {
				t.Fatalf("then %q, want %q", v.Code, want)
			}
		}
	}
	newKey := func(name string, org string) (Key, string) {
		k, secret := mustCreateKey(t, here, NewKey{Name: name, Enabled: true, Capacity: MaxCapacity, Frequency: 1, Org: org})
		verify(secret, "")
		return k, secret
	}
	revoked, revokedSecret := newKey("revoked", "")
	if _, err := here.RevokeKey(ctx, testActor, revoked.ID); err != nil {
		t.Fatal(err)
	}
	verify(revokedSecret, CodeRevoked)

	_, atAcme := newKey("at-acme", acme.ID)
	if _, err := here.SetOrgPolicy(ctx, testActor, acme.ID, Policy{APIKeysEnabled: false}); err != nil {
		t.Fatal(err)
	}
	verify(atAcme, CodeOrgDisabled)

	// Cut the other instance's change feed, and change a key while it
	// reconnects.
	disabled, disabledSecret := newKey("disabled", "")
	feed := there.db.(*postgres.DB)
	pid := feed.FeedPID()
	var cut bool
	if err := here.writer.QueryRowContext(ctx, `SELECT pg_terminate_backend(?)`, int64(pid)).Scan(&cut); err != nil || !cut {
		t.Fatalf("cut the feed's connection: %v %v", cut, err)
	}
	if _, err := here.DisableKey(ctx, testActor, disabled.ID); err != nil {
		t.Fatal(err)
	}
	verify(disabledSecret, CodeDisabled)
	for deadline := time.Now().Add(5 * time.Second); feed.FeedPID() == pid || !feed.DownSince().IsZero(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the feed did not connect again")
		}
	}
}

// TestInstancesShareRateLimits: verifications through two instances at
// once pass a key's capacity exactly, not once per instance.
func TestInstancesShareRateLimits(t *testing.T) {
	stores := twoInstances(t)
	ctx := context.Background()
	_, secret := mustCreateKey(t, stores[0], NewKey{Name: "tight", Enabled: true, Capacity: 5, Frequency: 3600})
	var passed, limited atomic.Int64
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 10 {
				v, err := stores[i%2].VerifyKey(ctx, secret, "", "")
				switch {
				case err != nil:
					t.Error(err)
					return
				case v.Valid:
					passed.Add(1)
				case v.Code == CodeRateLimited:
					limited.Add(1)
				default:
					t.Errorf("answered %q", v.Code)
				}
			}
		})
	}
	wg.Wait()
	if passed.Load() != 5 || limited.Load() != 75 {
		t.Fatalf("%d passed and %d were limited of 80, for a capacity of 5", passed.Load(), limited.Load())
	}
}

// TestInstancesLeaseRateLimits: an instance reserves a busy key's
// verifications in growing batches, which spares the database a trip for
// each; what one instance holds is not spent by the other, goes back
// when its lease ends, and the two together pass exactly the capacity. A
// refusal while the bucket is empty needs no trip, and neither do
// verifications through both at once pass more than the capacity.
func TestInstancesLeaseRateLimits(t *testing.T) {
	stores := twoInstances(t)
	ctx := context.Background()
	clock := &testClock{now: time.Now()}
	for _, s := range stores {
		s.Now = clock.Now
	}
	here, there := stores[0], stores[1]
	// 80 an hour: one comes back every 45 s, an instance reserves up to 10.
	_, secret := mustCreateKey(t, here, NewKey{Name: "busy", Enabled: true, Capacity: 80, Frequency: 3600})
	passes := func(s *Store, tries int) (passed int, last Verification) {
		t.Helper()
		for range tries {
			v, err := s.VerifyKey(ctx, secret, "", "")
			if err != nil {
				t.Fatal(err)
			}
			if v.Valid {
				passed++
			} else if v.Code != CodeRateLimited {
				t.Fatalf("answered %q", v.Code)
			}
			last = v
		}
		return passed, last
	}
	// Batches of 1, 2, 4 and 8: eight pass, seven stay reserved here.
	if n, v := passes(here, 8); n != 8 || v.Remaining != 72 {
		t.Fatalf("here: %d passed, %d remaining; want 8 and 72", n, v.Remaining)
	}
	if got := here.CacheStats().RateTrips; got != 4 {
		t.Fatalf("here: %d trips to the database for 8 verifications, want 4", got)
	}
	n, v := passes(there, 100)
	if n != 65 || v.Code != CodeRateLimited || v.RetryAfter <= 0 || v.RetryAfter > 45*time.Second {
		t.Fatalf("there: %d passed (want 65: 80 less the 15 reserved here), last %+v", n, v)
	}
	trips := there.CacheStats().RateTrips
	if trips > 12 {
		t.Fatalf("there: %d trips to the database for 66 verifications", trips)
	}
	if n, _ := passes(there, 20); n != 0 || there.CacheStats().RateTrips != trips {
		t.Fatalf("refused again: %d passed, %d trips more", n, there.CacheStats().RateTrips-trips)
	}
	// Here's lease ends: its seven go back with its next reservation, and
	// only here spends them (there saw the bucket empty for 45 s).
	clock.Advance(time.Duration(leaseFor) + time.Millisecond)
	if n, _ := passes(here, 20); n != 7 {
		t.Fatalf("here after its lease: %d passed, want the 7 it held", n)
	}
	if n, _ := passes(there, 20); n != 0 {
		t.Fatalf("there after the lease: %d passed, want none", n)
	}

	// Both at once, on a fresh key: never more than the capacity.
	_, secret = mustCreateKey(t, here, NewKey{Name: "contended", Enabled: true, Capacity: 80, Frequency: 3600})
	var passed atomic.Int64
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 30 {
				v, err := stores[i%2].VerifyKey(ctx, secret, "", "")
				if err != nil {
					t.Error(err)
					return
				}
				if v.Valid {
					passed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if p := passed.Load(); p > 80 || p < 80-2*10 {
		t.Fatalf("%d passed of 240 through both at once, for a capacity of 80 (each holds at most 10)", p)
	}
}

// TestInstancesCheckOneAddressesGuessesInTurn: guesses from one address
// sent to two instances at once are checked one after the other across
// both, so only the free ones are checked; and the wait they make holds
// on both.
func TestInstancesCheckOneAddressesGuessesInTurn(t *testing.T) {
	stores := twoInstances(t)
	ctx := context.Background()
	mustCreateUser(t, stores[0], "admin", RoleAdministrator)
	const addr = "203.0.113.9"
	var bad, wait atomic.Int64
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			_, err := stores[i%2].Login(ctx, Actor{ClientAddr: addr}, "admin", "guess")
			var tooMany *TooManyFailures
			switch {
			case errors.Is(err, ErrBadLogin):
				bad.Add(1)
			case errors.As(err, &tooMany):
				wait.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if bad.Load() != LoginFreeFailures || wait.Load() != 8-LoginFreeFailures {
		t.Fatalf("%d guesses checked and %d told to wait through two instances, want %d and %d",
			bad.Load(), wait.Load(), LoginFreeFailures, 8-LoginFreeFailures)
	}
	for i, s := range stores {
		var tooMany *TooManyFailures
		if _, err := s.Login(ctx, Actor{ClientAddr: addr}, "admin", testPassword); !errors.As(err, &tooMany) {
			t.Fatalf("instance %d let the address try again at once: %v", i, err)
		}
	}
}

// TestInstancesStartingAtOnceMakeOneAdministrator: instances started
// together on an empty database make the first administrator once, and
// none of them fails for it.
func TestInstancesStartingAtOnceMakeOneAdministrator(t *testing.T) {
	stores := twoInstances(t)
	var made atomic.Int64
	var wg sync.WaitGroup
	for _, s := range append(stores[:], stores[:]...) {
		wg.Go(func() {
			_, created, err := s.CreateFirstAdmin(context.Background(), "")
			if err != nil {
				t.Error(err)
			}
			if created {
				made.Add(1)
			}
		})
	}
	wg.Wait()
	if n, _ := stores[0].CountUsers(context.Background()); made.Load() != 1 || n != 1 {
		t.Fatalf("%d instances made the first administrator; %d users", made.Load(), n)
	}
}

// TestCachedKeysVerifyWhileTheDatabaseIsAway: when PostgreSQL goes out of
// reach, a key verified before keeps verifying for StaleFor, and the
// answer says how old it may be; a key never verified cannot be, and with
// StaleFor zero neither can the cached one.
func TestCachedKeysVerifyWhileTheDatabaseIsAway(t *testing.T) {
	if !onPostgres {
		t.Skip("SQLite's file does not go out of reach")
	}
	ctx := context.Background()
	url, cut := pgtest.Proxy(t, testDatabase(t))
	s, err := open(ctx, url, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, cached := mustCreateKey(t, s, NewKey{Name: "cached", Enabled: true})
	_, unseen := mustCreateKey(t, s, NewKey{Name: "unseen", Enabled: true})
	if v, err := s.VerifyKey(ctx, cached, "", ""); err != nil || !v.Valid || v.Stale != 0 {
		t.Fatalf("before: %+v, %v", v, err)
	}
	cut()
	for deadline := time.Now().Add(10 * time.Second); s.db.DownSince().IsZero(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the change feed did not notice the database go")
		}
	}
	if v, err := s.VerifyKey(ctx, cached, "", ""); err != nil || !v.Valid || v.Stale <= 0 {
		t.Fatalf("a cached key: %+v, %v", v, err)
	}
	if v, err := s.VerifyKey(ctx, unseen, "", ""); err == nil {
		t.Fatalf("a key never verified: %+v", v)
	}
	s.StaleFor = 0
	if v, err := s.VerifyKey(ctx, cached, "", ""); err == nil {
		t.Fatalf("a cached key with StaleFor zero: %+v", v)
	}
}

// TestEveryColumnVerificationReadsIsAnnounced: a change to any column of
// keys that a verification reads (verifyLookup) is announced on
// PostgreSQL, so that no instance keeps a cached key that changed; the
// ids alone never change.
func TestEveryColumnVerificationReadsIsAnnounced(t *testing.T) {
	if !onPostgres {
		t.Skip("PostgreSQL's triggers announce changes")
	}
	ctx := context.Background()
	url := testDatabase(t)
	s, err := open(ctx, url, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k, _ := mustCreateKey(t, s, NewKey{Name: "watched", Enabled: true})
	listener, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close(ctx)
	if _, err := listener.Exec(ctx, "LISTEN "+postgres.Channel); err != nil {
		t.Fatal(err)
	}
	keyColumns, err := allRows(ctx, mustTx(t, s), func(r rowScanner) (string, error) {
		var name string
		return name, r.Scan(&name)
	}, s.db.WrittenColumns(), "keys")
	if err != nil {
		t.Fatal(err)
	}
	read := regexp.MustCompile(`[a-z_]+`).FindAllString(verifyLookup, -1)
	for _, column := range keyColumns {
		if !slices.Contains(read, column) || column == "id" || column == "public_id" {
			continue
		}
		if _, err := s.writer.ExecContext(ctx, `UPDATE keys SET `+column+` = `+column+` WHERE id = ?`, k.rowID); err != nil {
			t.Fatal(err)
		}
		wait, cancel := context.WithTimeout(ctx, 2*time.Second)
		for {
			n, err := listener.WaitForNotification(wait)
			if err != nil {
				t.Errorf("a change to keys.%s was not announced: %v", column, err)
				break
			}
			if strings.HasSuffix(n.Payload, fmt.Sprintf(" key %d", k.rowID)) {
				break
			}
		}
		cancel()
	}
}
