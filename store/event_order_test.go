package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// logInOrder reads whether the store holds the audit log's times to go up
// with its ids.
func logInOrder(t *testing.T, s *Store) bool {
	t.Helper()
	var in bool
	if err := s.reader.QueryRow(`SELECT in_order FROM event_order`).Scan(&in); err != nil {
		t.Fatal(err)
	}
	return in
}

// checkWindows compares the events each window of dates selects with those
// whose time is in it, read one by one.
func checkWindows(t *testing.T, s *Store, windows [][2]time.Time) {
	t.Helper()
	var every []Event
	err := s.read(context.Background(), func(tx *sql.Tx) error {
		var err error
		every, err = allRows(context.Background(), tx, scanEvent, `SELECT `+eventColumns+` FROM events e ORDER BY e.id DESC`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range windows {
		var want []int64
		for _, e := range every {
			if (w[0].IsZero() || !e.At.Before(w[0])) && (w[1].IsZero() || e.At.Before(w[1])) {
				want = append(want, e.ID)
			}
		}
		if got := allEvents(t, s, EventFilter{From: w[0], To: w[1]}, 7); !slices.Equal(got, want) {
			t.Errorf("from %s to %s: %v, want %v", w[0], w[1], got, want)
		}
	}
}

// TestEventWindowsFollowTheLogsOrder: while the log's times go up with its
// ids, a window of dates is found by probes of the index of times; the
// first event older than the one before it (a clock set back) ends that
// for good, and the windows still select exactly the events of their
// dates, the older newcomer among them.
func TestEventWindowsFollowTheLogsOrder(t *testing.T) {
	s, clock := newTestStore(t)
	start := clock.now
	fillEvents(t, s, clock, 300) // a minute apart
	end := clock.now
	windows := [][2]time.Time{
		{start.Add(30 * time.Minute), start.Add(90 * time.Minute)},
		{start.Add(30*time.Minute + time.Second), {}},
		{{}, start.Add(90*time.Minute - time.Second)},
		{start.Add(-time.Hour), start},             // before the log
		{end.Add(time.Minute), end.Add(time.Hour)}, // after it
		{start.Add(2 * time.Hour), start.Add(2 * time.Hour)},
	}
	if !logInOrder(t, s) {
		t.Fatal("a log written in order is not said to be")
	}
	checkWindows(t, s, windows)

	clock.Advance(-4 * time.Hour) // back to an hour into the log
	mustCreateKey(t, s, NewKey{Name: "from the past"})
	if logInOrder(t, s) {
		t.Fatal("an event older than the one before it left the log in order")
	}
	checkWindows(t, s, windows)
	clock.Advance(5 * time.Hour)
	mustCreateKey(t, s, NewKey{Name: "later again"})
	if logInOrder(t, s) {
		t.Fatal("the log is in order again after one out of it")
	}
}

// TestUpgradeTellsTheLogsOrder: a database from before the order was kept
// is said to be in order when it is, and not when an event is older than
// the one before it.
func TestUpgradeTellsTheLogsOrder(t *testing.T) {
	for _, c := range []struct {
		name    string
		shuffle bool
	}{{"in order", false}, {"out of order", true}} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "old.db")
			s, err := Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			clock := &testClock{now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
			s.Now = clock.Now
			fillEvents(t, s, clock, 20)
			s.Close()
			db, err := sql.Open(DriverName, "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			stmts := []string{permissionsByName, `DROP TABLE event_order`}
			if c.shuffle {
				stmts = append(stmts, `UPDATE events SET at = at - 86400 WHERE id = (SELECT max(id) FROM events)`)
			}
			for _, stmt := range stmts {
				if _, err := db.Exec(stmt); err != nil {
					t.Fatal(err)
				}
			}
			s = upgrade(t, db, path, 18)
			if got := logInOrder(t, s); got == c.shuffle {
				t.Fatalf("in order after the upgrade: %v", got)
			}
			checkWindows(t, s, [][2]time.Time{{clock.now.Add(-30 * time.Hour), clock.now.Add(-time.Hour)}, {clock.now.Add(-10 * time.Minute), {}}})
		})
	}
}
