package store

import (
	"cmp"
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// usageOf reads a table's counts for one key or organization as
// outcome → count, summed over its hours or days.
func usageOf(t *testing.T, s *Store, table, column string, id int64) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := s.read(context.Background(), func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(context.Background(), `SELECT outcome, sum(count) FROM `+table+` WHERE `+column+` = ? GROUP BY outcome`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var outcome int
			var n int64
			if err := rows.Scan(&outcome, &n); err != nil {
				return err
			}
			out[UsageOutcomes[outcome]] = n
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUsageCountsEveryOutcome: verifications from many goroutines at once
// are counted exactly, by key and outcome, and those that found no key by
// the organization asked about; the hourly and daily tables agree, and
// the use count counts the valid ones.
func TestUsageCountsEveryOutcome(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	_, acme, _, _ := testOrgs(t, s)
	good, goodSecret := mustCreateKey(t, s, NewKey{Name: "good", Enabled: true, Capacity: MaxCapacity, Frequency: 1})
	tight, tightSecret := mustCreateKey(t, s, NewKey{Name: "tight", Enabled: true, Capacity: 5, Frequency: 3600})
	off, offSecret := mustCreateKey(t, s, NewKey{Name: "off", Enabled: true})
	if _, err := s.DisableKey(ctx, testActor, off.ID); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 250
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				calls := []struct{ secret, perm, org string }{
					{goodSecret, "", ""},
					{goodSecret, "nope", ""},   // permission denied
					{tightSecret, "", ""},      // 5 pass in all, the rest are rate limited
					{offSecret, "", ""},        // disabled
					{NewSecret(), "", acme.ID}, // not found, asked about Acme
					{"not-a-key", "", ""},      // malformed, at the root
				}
				for _, c := range calls {
					if _, err := s.VerifyKey(ctx, c.secret, c.perm, c.org); err != nil {
						t.Error(err)
						return
					}
				}
				if i%50 == 0 && w%2 == 0 {
					if err := s.FlushUsage(ctx); err != nil { // flushes amid the counting
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if err := s.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	n := int64(workers * each)
	for _, c := range []struct {
		name   string
		table  string
		column string
		id     int64
		want   map[string]int64
	}{
		{"good", "key_usage", "key_id", good.rowID, map[string]int64{OutcomeValid: n, CodePermissionDenied: n}},
		{"tight", "key_usage", "key_id", tight.rowID, map[string]int64{OutcomeValid: 5, CodeRateLimited: n - 5}},
		{"off", "key_usage", "key_id", off.rowID, map[string]int64{CodeDisabled: n}},
		{"Acme", "org_refusals", "org_id", acme.rowID, map[string]int64{CodeNotFound: n}},
		{"root", "org_refusals", "org_id", RootOrg, map[string]int64{CodeMalformed: n}},
	} {
		for _, period := range []string{"_hourly", "_daily"} {
			got := usageOf(t, s, c.table+period, c.column, c.id)
			if len(got) != len(c.want) {
				t.Fatalf("%s%s: %v, want %v", c.name, period, got, c.want)
			}
			for outcome, want := range c.want {
				if got[outcome] != want {
					t.Fatalf("%s%s: %v, want %v", c.name, period, got, c.want)
				}
			}
		}
	}
	k, err := s.Key(ctx, Scope{}, good.ID)
	if err != nil || k.UseCount != n {
		t.Fatalf("use count %d, want %d (%v)", k.UseCount, n, err)
	}
	// A check from the console counts nothing.
	if _, err := s.CheckKey(ctx, Scope{}, goodSecret, "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckKey(ctx, Scope{}, NewSecret(), "", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	if got := usageOf(t, s, "key_usage_hourly", "key_id", good.rowID)[OutcomeValid]; got != n {
		t.Fatalf("a console check was counted: %d", got)
	}
}

// TestUsageByHourAndOnClose: counts go to the hour and day of their flush,
// and what is counted when the store closes is written, not lost.
func TestUsageByHourAndOnClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keydesk.db")
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{now: time.Date(2026, 11, 23, 10, 59, 0, 0, time.UTC)}
	s.Now = clock.Now
	k, secret := mustCreateKey(t, s, NewKey{Name: "hourly", Enabled: true})
	verify := func(times int) {
		for range times {
			if _, err := s.VerifyKey(ctx, secret, "", ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	verify(3)
	if err := s.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute) // 11:01
	verify(4)
	if err := s.Close(); err != nil { // writes the 4
		t.Fatal(err)
	}
	if s, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hours, err := allRowsOf(s, `SELECT hour || ':' || count FROM key_usage_hourly WHERE key_id = ? ORDER BY hour`, k.rowID)
	if err != nil {
		t.Fatal(err)
	}
	ten := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).Unix()
	want := []string{strconv.FormatInt(ten, 10) + ":3", strconv.FormatInt(ten+3600, 10) + ":4"}
	if len(hours) != 2 || hours[0] != want[0] || hours[1] != want[1] {
		t.Fatalf("hours %v, want %v", hours, want)
	}
	if days, _ := allRowsOf(s, `SELECT count FROM key_usage_daily WHERE key_id = ?`, k.rowID); len(days) != 1 || days[0] != "7" {
		t.Fatalf("days %v", days)
	}
}

// TestPruneUsage: hourly rows go after 14 days, daily ones after 400, to
// the hour and the day; the rows of deleted keys go too.
func TestPruneUsage(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	kept, _ := mustCreateKey(t, s, NewKey{Name: "kept"})
	gone, _ := mustCreateKey(t, s, NewKey{Name: "gone"})
	if _, err := s.DeleteKey(ctx, testActor, gone.ID); err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	hourCut, dayCut := hourOf(now.Add(-UsageHourlyFor)), dayOf(now.Add(-UsageDailyFor))
	err := s.write(ctx, func(tx *sql.Tx, _ time.Time) error {
		for _, r := range []struct {
			table  string
			key    int64
			bucket int64
		}{
			{"key_usage_hourly", kept.rowID, hourCut},        // the oldest hour kept
			{"key_usage_hourly", kept.rowID, hourCut - 3600}, // an hour too old
			{"key_usage_daily", kept.rowID, dayCut},          // the oldest day kept
			{"key_usage_daily", kept.rowID, dayCut - 86400},  // a day too old
			{"key_usage_hourly", gone.rowID, hourOf(now)},    // a deleted key's
			{"key_usage_daily", gone.rowID, dayOf(now)},
		} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+r.table+` VALUES (?, ?, 0, 1)`, r.key, r.bucket); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneUsage(ctx)
	if err != nil || n != 4 {
		t.Fatalf("pruned %d rows, %v; want 4", n, err)
	}
	left, _ := allRowsOf(s, `SELECT 'h' || hour FROM key_usage_hourly UNION ALL SELECT 'd' || day FROM key_usage_daily ORDER BY 1`)
	if len(left) != 2 || left[0] != "d"+strconv.FormatInt(dayCut, 10) || left[1] != "h"+strconv.FormatInt(hourCut, 10) {
		t.Fatalf("left %v", left)
	}
}

// TestUsesInTheLast24Hours: the key's count of the last 24 hours grows
// with each flush and loses each hour as it leaves the window, even after
// a stop; the sparkline puts each hour in its place; the key list sorts
// by the count.
func TestUsesInTheLast24Hours(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	clock.now = time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
	busy, busySecret := mustCreateKey(t, s, NewKey{Name: "busy", Enabled: true})
	idle, _ := mustCreateKey(t, s, NewKey{Name: "idle", Enabled: true})
	slide := func() {
		t.Helper()
		if _, err := s.SlideUsageWindow(ctx); err != nil {
			t.Fatal(err)
		}
	}
	uses := func() int64 {
		t.Helper()
		k, err := s.Key(ctx, Scope{}, busy.ID)
		if err != nil {
			t.Fatal(err)
		}
		return k.Uses24h
	}
	verify := func(n int) {
		t.Helper()
		for range n {
			if _, err := s.VerifyKey(ctx, busySecret, "", ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
	}
	slide()   // the first run starts the window
	verify(5) // 10:xx
	clock.Advance(time.Hour)
	verify(7) // 11:xx
	slide()
	if got := uses(); got != 12 {
		t.Fatalf("%d uses in the last 24 hours, want 12", got)
	}
	lines, err := s.Sparklines(ctx, []Key{busy, idle}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if b, i := lines[busy.ID], lines[idle.ID]; len(b) != 3 || b[0] != 0 || b[1] != 5 || b[2] != 7 || i[2] != 0 {
		t.Fatalf("sparklines %v", lines)
	}
	page, err := s.Keys(ctx, Scope{}, KeyQuery{Sort: SortUses24h, Desc: true})
	if err != nil || page.Keys[0].ID != busy.ID {
		t.Fatalf("sorted by the last 24 hours: %v, %v", page.Keys, err)
	}
	// 10:00 leaves the window at 10:00 the next day; after a stop of a
	// day and a half, both hours have left.
	clock.now = time.Date(2026, 11, 24, 10, 5, 0, 0, time.UTC)
	slide()
	if got := uses(); got != 7 {
		t.Fatalf("a day on: %d, want 7", got)
	}
	slide()
	if got := uses(); got != 7 {
		t.Fatalf("a second run the same hour took off again: %d", got)
	}
	clock.Advance(36 * time.Hour)
	slide()
	if got := uses(); got != 0 {
		t.Fatalf("after a stop: %d, want 0", got)
	}
}

// TestUsesWindowWhateverTheRuns: the count of the last 24 hours comes out
// right after a late first run, and after a run as of a day to come
// followed by one at the real time.
func TestUsesWindowWhateverTheRuns(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	k, secret := mustCreateKey(t, s, NewKey{Name: "k", Enabled: true})
	uses := func() int64 {
		t.Helper()
		got, err := s.Key(ctx, Scope{}, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Uses24h
	}
	slide := func() {
		t.Helper()
		if _, err := s.SlideUsageWindow(ctx); err != nil {
			t.Fatal(err)
		}
	}
	verify := func(n int, perm string) {
		t.Helper()
		for range n {
			if _, err := s.VerifyKey(ctx, secret, perm, ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
	}
	verify(5, "")
	verify(4, "not-its-permission") // refused: not in the count
	if got := uses(); got != 5 {
		t.Fatalf("%d after the flush, want 5", got)
	}
	clock.Advance(30 * time.Hour) // the job's first run, a day late
	slide()
	if got := uses(); got != 0 {
		t.Fatalf("a late first run leaves %d", got)
	}
	verify(3, "")
	real := clock.Now()
	clock.Advance(10 * 24 * time.Hour) // a run as of ten days ahead
	slide()
	clock.now = real
	verify(2, "")
	slide()
	if got := uses(); got != 5 {
		t.Fatalf("after a run ahead and one now: %d, want 5", got)
	}
}

// TestEveryCodeHasItsOutcome: each verification code counts as its own
// outcome, and back.
func TestEveryCodeHasItsOutcome(t *testing.T) {
	codes := []string{"", CodeRateLimited, CodeNotFound, CodeMalformed, CodeRevoked, CodeExpired,
		CodeDisabled, CodeOrgDisabled, CodeWrongOrg, CodePermissionDenied}
	seen := map[int]bool{}
	for _, code := range codes {
		i := outcomeOf(code)
		if seen[i] {
			t.Fatalf("%q shares outcome %d", code, i)
		}
		seen[i] = true
		if want := cmp.Or(code, OutcomeValid); UsageOutcomes[i] != want {
			t.Fatalf("%q counts as %s", code, UsageOutcomes[i])
		}
	}
}

// TestCountingAllocatesNothing: a cached verification, passed or refused,
// counts with no allocation.
//
// On PostgreSQL the instance reserves the key's verifications in batches
// of 1, 2, 4…: the first 511 verifications use nine, and the 512th
// reserves 512, which the clock, at a standstill, keeps for the 101 that
// AllocsPerRun makes.
func TestCountingAllocatesNothing(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	_, secret := mustCreateKey(t, s, NewKey{Name: "k", Enabled: true, Capacity: MaxCapacity, Frequency: 1})
	for _, perm := range []string{"", "not-its-permission"} {
		for range 512 { // cached from the first
			if _, err := s.VerifyKey(ctx, secret, perm, ""); err != nil {
				t.Fatal(err)
			}
		}
		if n := testing.AllocsPerRun(100, func() { s.VerifyKey(ctx, secret, perm, "") }); n != 0 {
			t.Fatalf("%v allocations a verification (permission %q)", n, perm)
		}
	}
}

// TestFailedFlushKeepsTheCounts: counts a flush could not write are
// written by the next, for keys and organizations alike.
func TestFailedFlushKeepsTheCounts(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	k, secret := mustCreateKey(t, s, NewKey{Name: "k", Enabled: true})
	for range 3 {
		s.VerifyKey(ctx, secret, "", "")
		s.VerifyKey(ctx, NewSecret(), "", "")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.FlushUsage(cancelled); err == nil {
		t.Fatal("a flush with a cancelled context succeeded")
	}
	if err := s.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	if got := usageOf(t, s, "key_usage_hourly", "key_id", k.rowID)[OutcomeValid]; got != 3 {
		t.Fatalf("key: %d valid, want 3", got)
	}
	if got := usageOf(t, s, "org_refusals_hourly", "org_id", RootOrg)[CodeNotFound]; got != 3 {
		t.Fatalf("root: %d not found, want 3", got)
	}
}
