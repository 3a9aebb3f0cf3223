package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// noticeLog lists the notices raised, one line each: key, kind, days, and
// the day (from start) they were raised.
func noticeLog(t *testing.T, s *Store, start time.Time) []string {
	t.Helper()
	rows, err := s.reader.Query(`SELECT key_name, kind, days, at FROM notices ORDER BY at, key_name, kind, days`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name, kind string
		var days int
		var at int64
		if err := rows.Scan(&name, &kind, &days, &at); err != nil {
			t.Fatal(err)
		}
		day := time.Unix(at, 0).Sub(start).Hours() / 24
		out = append(out, fmt.Sprintf("%s %s %d day%.0f", name, kind, days, day))
	}
	return out
}

func mailedTo(t *testing.T, s *Store, user string) []string {
	t.Helper()
	list, err := allRowsOf(s, `SELECT n.key_name || ' ' || n.kind || ' ' || n.days FROM notice_mail m
		JOIN notices n ON n.id = m.notice_id JOIN users u ON u.id = m.user_id WHERE u.username = ? ORDER BY n.id`, user)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func allRowsOf(s *Store, query string, args ...any) ([]string, error) {
	return readValue(context.Background(), s, func(tx *sql.Tx) ([]string, error) {
		return allRows(context.Background(), tx, scanString, query, args...)
	})
}

// TestNoticesOverFortyDays drives the clock an hour at a time across 41
// days and checks that every notice is raised exactly once, at its
// moment: the expiry thresholds (only those still ahead when a key is
// created or extended), the expiry itself, a scheduled rotation 30 days
// ahead, a grace period's last 3 and 1 days, and a rotation.
func TestNoticesOverFortyDays(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	start := clock.now
	day := 24 * time.Hour
	users := map[string]int64{}
	for _, u := range []struct {
		name, email string
		role        int64
	}{
		{"alice", "alice@example.com", RoleAdministrator}, // may change every key
		{"vic", "vic@example.com", RoleViewer},            // may not
		{"carol", "carol@example.com", RoleAdministrator}, // opts out of expiry notices
		{"dave", "", RoleAdministrator},                   // has no address
		{"bob", "bob@example.com", RoleViewer},            // creates keys
	} {
		nu, err := s.CreateUser(ctx, testActor, NewUser{Username: u.name, Password: "long enough password", RoleID: u.role, Email: u.email})
		if err != nil {
			t.Fatal(err)
		}
		users[u.name] = nu.ID
	}
	if _, err := s.SetNoticeSettings(ctx, Actor{UserID: users["carol"], Username: "carol"}, NoticeSettings{Email: "carol@example.com", OptedOut: []string{NoticeExpiring}}); err != nil {
		t.Fatal(err)
	}
	create := func(name string, expires time.Duration, every int) Key {
		in := NewKey{Name: name, Permissions: []string{"chat"}, Capacity: DefaultCapacity, Frequency: DefaultFrequency, RotateEveryDays: every}
		if expires > 0 {
			in.ExpiresAt = clock.now.Add(expires)
		}
		k, _, err := s.CreateKey(ctx, testActor, in)
		if err != nil {
			t.Fatal(err)
		}
		// bob is the creator: the key's created_by names him.
		if _, err := s.writer.Exec(`UPDATE keys SET created_by = 'bob' WHERE public_id = ?`, k.ID); err != nil {
			t.Fatal(err)
		}
		return k
	}
	if _, err := s.PlanNotices(ctx); err != nil { // the first run starts the window
		t.Fatal(err)
	}
	create("forty", 40*day, 0)
	create("five", 5*day, 0)
	create("never", 0, 0)
	extended := create("extended", 10*day, 0)
	create("scheduled", 0, 45)
	graced := create("graced", 0, 0)

	for hour := 1; hour <= 41*24; hour++ {
		clock.Advance(time.Hour)
		switch hour {
		case 2 * 24:
			if _, err := s.SetKeyExpiry(ctx, testActor, extended.ID, start.Add(20*day)); err != nil {
				t.Fatal(err)
			}
		case 5 * 24:
			if _, err := s.RotateKey(ctx, testActor, graced.ID, 7); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.PlanNotices(ctx); err != nil {
			t.Fatal(err)
		}
		if hour == 10*24 {
			// A second run at the same moment raises nothing.
			before := count(t, s, "notices")
			if _, err := s.PlanNotices(ctx); err != nil || count(t, s, "notices") != before {
				t.Fatalf("a second run raised notices (%v)", err)
			}
		}
	}
	want := []string{
		"five key.expiring 3 day2",
		"five key.expiring 1 day4",
		"five key.expiring 0 day5",
		"graced key.rotated 0 day5",
		"extended key.expiring 14 day6",
		"graced key.grace_ending 3 day9",
		"forty key.expiring 30 day10",
		"graced key.grace_ending 1 day11",
		"extended key.expiring 7 day13",
		"scheduled key.rotation_due 30 day15",
		"extended key.expiring 3 day17",
		"extended key.expiring 1 day19",
		"extended key.expiring 0 day20",
		"forty key.expiring 14 day26",
		"forty key.expiring 7 day33",
		"forty key.expiring 3 day37",
		"forty key.expiring 1 day39",
		"forty key.expiring 0 day40",
	}
	got := noticeLog(t, s, start)
	sortByDay := func(list []string) {
		slices.SortStableFunc(list, func(a, b string) int {
			var da, db int
			fmt.Sscanf(a[strings.LastIndex(a, "day")+3:], "%d", &da)
			fmt.Sscanf(b[strings.LastIndex(b, "day")+3:], "%d", &db)
			return da - db
		})
	}
	sortByDay(want)
	sortByDay(got)
	if !slices.Equal(got, want) {
		t.Fatalf("notices raised:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	if n := len(mailedTo(t, s, "alice")); n != len(want) {
		t.Errorf("alice, who may change every key, was sent %d notices, want %d", n, len(want))
	}
	if n := len(mailedTo(t, s, "bob")); n != len(want) {
		t.Errorf("bob, who created the keys, was sent %d notices, want %d", n, len(want))
	}
	for _, who := range []string{"vic", "dave"} {
		if got := mailedTo(t, s, who); len(got) != 0 {
			t.Errorf("%s was sent notices: %v", who, got)
		}
	}
	for _, n := range mailedTo(t, s, "carol") {
		if strings.Contains(n, NoticeExpiring) {
			t.Errorf("carol opted out of expiry notices but was sent %q", n)
		}
	}
	if n := len(mailedTo(t, s, "carol")); n != 4 {
		t.Errorf("carol was sent %d notices, want the 4 that are not about expiry", n)
	}
}

// TestNoticesAfterAStop: a planner that did not run for days raises, for
// each key, the nearest threshold it missed, not every one.
func TestNoticesAfterAStop(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	if _, err := s.PlanNotices(ctx); err != nil {
		t.Fatal(err)
	}
	mustCreateKey(t, s, NewKey{Name: "soon", ExpiresAt: clock.now.Add(20 * 24 * time.Hour)})
	clock.Advance(16 * 24 * time.Hour) // past the 14- and 7-day thresholds
	if _, err := s.PlanNotices(ctx); err != nil {
		t.Fatal(err)
	}
	got := noticeLog(t, s, clock.now)
	if len(got) != 1 || !strings.HasPrefix(got[0], "soon key.expiring 7 ") {
		t.Fatalf("after a stop: %v, want the 7-day notice alone", got)
	}
}

// TestNoticeRecipientsAreScoped: a notice about a key goes to those at its
// organization or above, never to another organization's people, and
// queued mail is dropped for someone who opts out before it is sent.
func TestNoticeRecipientsAreScoped(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	_, acme, eu, beta := testOrgs(t, s)
	user := func(name string, o Org) User {
		u, err := s.CreateUser(ctx, testActor, NewUser{Username: name, Password: "long enough password", RoleID: RoleAdministrator, Org: o.ID, Email: name + "@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	atAcme := user("acme-admin", acme)
	user("beta-admin", beta)
	user("eu-admin", eu) // below the key's organization: not above it
	if _, err := s.PlanNotices(ctx); err != nil {
		t.Fatal(err)
	}
	mustCreateKey(t, s, NewKey{Name: "acme-key", Org: acme.ID, ExpiresAt: clock.Now().Add(24*time.Hour + 30*time.Minute)})
	clock.Advance(time.Hour)
	if _, err := s.PlanNotices(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := allRowsOf(s, `SELECT u.username FROM notice_mail m JOIN users u ON u.id = m.user_id ORDER BY u.username`)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "acme-admin" {
		t.Fatalf("queued for %v, want acme-admin only", got)
	}
	if _, err := s.SetNoticeSettings(ctx, Actor{UserID: atAcme.ID, Username: "acme-admin", Scope: atAcme.Scope()},
		NoticeSettings{Email: "acme-admin@example.com", OptedOut: []string{NoticeExpiring}}); err != nil {
		t.Fatal(err)
	}
	batches, err := s.ClaimMail(ctx, "test", time.Minute, 10)
	if err != nil || len(batches) != 0 || count(t, s, "notice_mail") != 0 {
		t.Fatalf("after opting out: %d batches, %v, %d queued", len(batches), err, count(t, s, "notice_mail"))
	}
}

func TestNoticeDaysLeft(t *testing.T) {
	at := time.Date(2026, 12, 23, 9, 0, 0, 0, time.UTC)
	for due, want := range map[time.Duration]int{
		30 * 24 * time.Hour:           30, // on time
		21*24*time.Hour + 5*time.Hour: 21, // raised late
		20 * time.Hour:                1, 6 * time.Hour: 0, -time.Hour: 0,
	} {
		if got := (Notice{At: at, DueFor: at.Add(due)}).DaysLeft(); got != want {
			t.Errorf("%v ahead: %d days left, want %d", due, got, want)
		}
	}
}

// TestFirstRunCatchesUp: the first planning on a database warns of what is
// still ahead (the nearest threshold passed, once), and of nothing over.
func TestFirstRunCatchesUp(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	day := 24 * time.Hour
	key := func(name string, d time.Duration) {
		mustCreateKey(t, s, NewKey{Name: name, Enabled: true, ExpiresAt: clock.Now().Add(d)})
	}
	// Keys made before notices were planned at all, as on an upgrade.
	key("gone", time.Hour)
	key("six-days", 20*day)
	clock.Advance(14 * day) // "gone" has expired; "six-days" has 6 days left
	key("forty-days", 40*day)
	if _, err := s.PlanNotices(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := allRowsOf(s, `SELECT key_name || ':' || days FROM notices ORDER BY key_name`)
	if err != nil || len(got) != 1 || got[0] != "six-days:7" {
		t.Fatalf("the first run raised %v, %v; want six-days' 7-day notice only", got, err)
	}
	if _, err := s.PlanNotices(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "notices"); n != 1 {
		t.Fatalf("%d notices after a second run", n)
	}
}
