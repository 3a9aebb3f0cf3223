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

// fillEvents writes n events, one a minute, by five actors over four
// actions and a hundred keys, straight into the log in one transaction.
func fillEvents(t testing.TB, s *Store, clock *testClock, n int) {
	t.Helper()
	actions := []string{ActionKeyCreated, ActionKeyDisabled, ActionKeyRevoked, ActionLoginFailed}
	err := s.write(context.Background(), func(tx *sql.Tx, now time.Time) error {
		for i := 0; i < n; i++ {
			now = now.Add(time.Minute)
			actor := Actor{Username: fmt.Sprintf("actor%d", i%5), ClientAddr: "192.0.2.1"}
			ev := eventRecord{Action: actions[i%4], TargetType: TargetKey, TargetID: fmt.Sprintf("id%03d", i%100), TargetName: fmt.Sprintf("service-%03d", i%100)}
			if err := s.logEvent(context.Background(), tx, now, actor, ev); err != nil {
				return err
			}
		}
		clock.now = now
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// allEvents pages through a filter, oldest page last, and returns the ids.
func allEvents(t *testing.T, s *Store, f EventFilter, limit int) []int64 {
	t.Helper()
	var ids []int64
	q := EventQuery{EventFilter: f, Limit: limit}
	for {
		page, err := s.Events(context.Background(), Scope{}, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			ids = append(ids, e.ID)
		}
		if page.Next == 0 {
			return ids
		}
		q.Before, q.After = page.Next, 0
	}
}

func TestEventPagingAndFiltersAt100000(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100,000 events")
	}
	s, clock := newTestStore(t)
	start := clock.now
	fillEvents(t, s, clock, 100_000)
	ctx := context.Background()

	// Every page of one filter, in order, nothing twice.
	revoked := allEvents(t, s, EventFilter{Action: ActionKeyRevoked, Actor: "actor2"}, 500)
	if len(revoked) != 5000 || !slices.IsSortedFunc(revoked, func(a, b int64) int { return int(b - a) }) {
		t.Fatalf("%d revoke events by actor2, sorted newest first: %v", len(revoked), slices.IsSortedFunc(revoked, func(a, b int64) int { return int(b - a) }))
	}
	n, err := s.EachEvent(ctx, Scope{}, EventFilter{Action: ActionKeyRevoked, Actor: "actor2"}, func(Event) error { return nil })
	if err != nil || n != 5000 {
		t.Fatalf("EachEvent: %d, %v", n, err)
	}
	// Search by target name and id, whatever the case.
	named := allEvents(t, s, EventFilter{Search: "SERVICE-042"}, 200)
	if len(named) != 1000 {
		t.Fatalf("%d events about service-042", len(named))
	}
	// Every word must match: key id042 is only ever touched by actor2.
	if byID := allEvents(t, s, EventFilter{Search: "id042 actor2"}, 200); len(byID) != 1000 {
		t.Fatalf("%d events about id042 by actor2", len(byID))
	}
	if none := allEvents(t, s, EventFilter{Search: "id042 actor1"}, 200); len(none) != 0 {
		t.Fatalf("%d events about id042 by actor1", len(none))
	}
	// A day: 1,440 events.
	day := allEvents(t, s, EventFilter{From: start.Add(24 * time.Hour), To: start.Add(48 * time.Hour)}, 100)
	if len(day) != 1440 {
		t.Fatalf("%d events in a day", len(day))
	}
	// A day before the first event has none; each bound alone splits the log.
	if before := allEvents(t, s, EventFilter{From: start.Add(-48 * time.Hour), To: start.Add(-24 * time.Hour)}, 100); len(before) != 0 {
		t.Fatalf("%d events before the log began", len(before))
	}
	since := allEvents(t, s, EventFilter{From: start.Add(24 * time.Hour)}, 5000)
	until := allEvents(t, s, EventFilter{To: start.Add(24 * time.Hour)}, 5000)
	if len(since)+len(until) != 100_000 || len(until) == 0 || len(since) == 0 {
		t.Fatalf("%d events since the second day, %d before it", len(since), len(until))
	}
	// Back and forth: the newer page of the second page is the first.
	p1, _ := s.Events(ctx, Scope{}, EventQuery{Limit: 50})
	p2, _ := s.Events(ctx, Scope{}, EventQuery{Limit: 50, Before: p1.Next})
	back, _ := s.Events(ctx, Scope{}, EventQuery{Limit: 50, After: p2.Prev})
	if back.Events[0].ID != p1.Events[0].ID || back.Prev != 0 || back.Next != p1.Next {
		t.Fatalf("back to the first page: starts %d, want %d; prev %d next %d", back.Events[0].ID, p1.Events[0].ID, back.Prev, back.Next)
	}
	if _, err := s.Events(ctx, Scope{}, EventQuery{EventFilter: EventFilter{Action: "key.exploded"}}); ErrorCode(err) != EINVALID {
		t.Fatalf("unknown action: %v", err)
	}
}

func TestRetentionPrunesAndRecordsIt(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	fillEvents(t, s, clock, 3*24*60) // three days, one a minute
	if n, err := s.PruneEvents(ctx); err != nil || n != 0 {
		t.Fatalf("pruned %d with no retention (%v)", n, err)
	}
	if err := s.SetEventRetention(ctx, testActor, -1); ErrorCode(err) != EINVALID {
		t.Fatalf("negative retention: %v", err)
	}
	if err := s.SetEventRetention(ctx, testActor, 1); err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneEvents(ctx)
	// One a minute from a minute past the start: all but the one exactly a
	// day before the end of the second day are older than a day.
	if err != nil || n != 2*24*60-1 {
		t.Fatalf("pruned %d (%v), want two days' worth", n, err)
	}
	page, _ := s.Events(ctx, Scope{}, EventQuery{Limit: 2})
	if page.Events[0].Action != ActionEventsPruned || page.Events[0].Details["deleted"] != float64(n) {
		t.Fatalf("newest event %+v", page.Events[0])
	}
	if page.Events[1].Action != ActionSettingsChanged {
		t.Fatalf("the retention change was not recorded: %+v", page.Events[1])
	}
	// The pruned events' words left the search index with them.
	checkSearchIndexes(t, s)
}

func TestBulkIDFindsItsEvents(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	a, _ := mustCreateKey(t, s, NewKey{Name: "a", Enabled: true})
	b, _ := mustCreateKey(t, s, NewKey{Name: "b", Enabled: true})
	if _, err := s.ChangeKeys(ctx, testActor, KeyDisable, KeySelection{IDs: []string{a.ID, b.ID}}); err != nil {
		t.Fatal(err)
	}
	evs, _ := s.TargetEvents(ctx, Scope{}, TargetKey, a.ID, 1)
	page, err := s.Events(ctx, Scope{}, EventQuery{EventFilter: EventFilter{Search: evs[0].BulkID}})
	if err != nil || len(page.Events) != 2 {
		t.Fatalf("search by bulk id %s: %d events, %v", evs[0].BulkID, len(page.Events), err)
	}
}

func TestRepeatedRefusalsCollapseIntoOneEventAMinute(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	viewer := Actor{UserID: 7, Username: "viewer", ClientAddr: "192.0.2.9"}
	clock.now = clock.now.Truncate(time.Minute)
	for i := 0; i < 500; i++ {
		if err := s.RecordAccessDenied(ctx, viewer, "POST /keys", "/keys"); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(30 * time.Second)
	// Another route, and another person on the same route, are other events.
	if err := s.RecordAccessDenied(ctx, viewer, "GET /users", "/users"); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAccessDenied(ctx, Actor{UserID: 8, Username: "other"}, "POST /keys", "/keys"); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAccessDenied(ctx, viewer, "POST /keys", "/keys"); err != nil {
		t.Fatal(err)
	}
	// The next minute starts a new event.
	clock.Advance(31 * time.Second)
	if err := s.RecordAccessDenied(ctx, viewer, "POST /keys", "/keys"); err != nil {
		t.Fatal(err)
	}

	var got []string
	if _, err := s.EachEvent(ctx, Scope{}, EventFilter{Action: ActionAccessDenied}, func(e Event) error {
		got = append(got, fmt.Sprintf("%s %s %v", e.ActorUsername, e.TargetName, e.Details["count"]))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"viewer POST /keys 1", "other POST /keys 1", "viewer GET /users 1", "viewer POST /keys 501"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("events, newest first:\n got %q\nwant %q", got, want)
	}
}
