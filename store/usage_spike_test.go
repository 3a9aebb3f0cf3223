package store

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"
)

// addUsage writes count verifications of a key (or, with table
// "org_refusals_hourly", refusals of an organization) in the hour of at.
func addUsage(t *testing.T, s *Store, table string, row int64, at time.Time, count int64) {
	t.Helper()
	owner, _, _ := strings.Cut(table, "_") // key_usage_hourly: key_id
	err := s.write(context.Background(), func(tx *sql.Tx, _ time.Time) error {
		_, err := tx.ExecContext(context.Background(), `INSERT INTO `+table+` VALUES (?, ?, 0, ?)
			ON CONFLICT (`+owner+`_id, hour, outcome) DO UPDATE SET count = `+table+`.count + excluded.count`, row, hourOf(at), count)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func spikeEvents(t *testing.T, s *Store, action string) []Event {
	t.Helper()
	page, err := s.Events(context.Background(), Scope{}, EventQuery{EventFilter: EventFilter{Action: action}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return page.Events
}

// TestUsageSpikes: a steady key never spikes; an hour ten times its usual
// and above the floor raises one event and one notice, and no more that
// day however long it lasts; the next day's spike raises another. A key
// never used before spikes by passing the floor alone; one below it does
// not. An organization's refusals of no key spike the same way.
func TestUsageSpikes(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	_, acme, _, _ := testOrgs(t, s)
	steady, _ := mustCreateKey(t, s, NewKey{Name: "steady", Enabled: true})
	jumpy, _ := mustCreateKey(t, s, NewKey{Name: "jumpy", Enabled: true})
	fresh, freshSecret := mustCreateKey(t, s, NewKey{Name: "fresh", Enabled: true, Capacity: MaxCapacity, Frequency: 1})
	quiet, _ := mustCreateKey(t, s, NewKey{Name: "quiet", Enabled: true})
	if _, err := s.CreateUser(ctx, testActor, NewUser{Username: "ops", Password: "long enough password", RoleID: RoleAdministrator, Email: "ops@example.com"}); err != nil {
		t.Fatal(err)
	}
	// A week of 2,000 an hour for both, and of 300 refusals an hour at Acme.
	start := clock.Now()
	for h := range 7 * 24 {
		at := start.Add(time.Duration(h-7*24) * time.Hour)
		addUsage(t, s, "key_usage_hourly", steady.rowID, at, 2000)
		addUsage(t, s, "key_usage_hourly", jumpy.rowID, at, 2000)
		addUsage(t, s, "org_refusals_hourly", acme.rowID, at, 300)
	}
	detect := func() SpikeRun {
		t.Helper()
		run, err := s.DetectSpikes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	addUsage(t, s, "key_usage_hourly", steady.rowID, clock.Now(), 19_000) // 9.5 times: not a spike
	addUsage(t, s, "key_usage_hourly", jumpy.rowID, clock.Now(), 20_001)  // just above 10 times
	addUsage(t, s, "key_usage_hourly", quiet.rowID, clock.Now(), 900)     // never used, below the floor
	for range 1500 {                                                      // never used, above the floor
		if _, err := s.VerifyKey(ctx, freshSecret, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	addUsage(t, s, "org_refusals_hourly", acme.rowID, clock.Now(), 3001)
	if run := detect(); run.Keys != 2 || run.Orgs != 1 {
		t.Fatalf("first look: %+v, want 2 keys (jumpy, fresh) and Acme", run)
	}
	got := map[string]Event{}
	for _, e := range spikeEvents(t, s, ActionKeyUsageSpike) {
		got[e.TargetName] = e
	}
	if len(got) != 2 || got["jumpy"].TargetID != jumpy.ID || got["fresh"].TargetID != fresh.ID {
		t.Fatalf("spike events for %v", got)
	}
	if d := got["jumpy"].Details; d["count"] != float64(20_001) || d["usual_per_hour"] != float64(2000) || d["multiple"] != float64(10) {
		t.Fatalf("the spike names %v", d)
	}
	if org := spikeEvents(t, s, ActionOrgRefusalsSpike); len(org) != 1 || org[0].TargetID != acme.ID {
		t.Fatalf("refusal spikes %+v", org)
	}
	notices, err := allRowsOf(s, `SELECT key_name || ':' || figure || ':' || usual FROM notices WHERE kind = ? ORDER BY key_name`, NoticeUsageSpike)
	if err != nil || len(notices) != 2 || notices[0] != "fresh:1500:0" || notices[1] != "jumpy:20001:2000" {
		t.Fatalf("notices %v, %v", notices, err)
	}
	if n := count(t, s, "notice_mail"); n != 2 {
		t.Fatalf("%d notices queued for mail, want one each for ops", n)
	}

	// The spike goes on, this hour and the next: nothing more today.
	addUsage(t, s, "key_usage_hourly", jumpy.rowID, clock.Now(), 30_000)
	clock.Advance(time.Hour)
	addUsage(t, s, "key_usage_hourly", jumpy.rowID, clock.Now(), 40_000)
	if run := detect(); run.Keys != 0 {
		t.Fatalf("a second spike the same day: %+v", run)
	}
	// The next day, it spikes again.
	clock.now = time.Unix(dayOf(clock.Now())+86400+3600, 0).UTC()
	addUsage(t, s, "key_usage_hourly", jumpy.rowID, clock.Now(), 900_000)
	if run := detect(); run.Keys != 1 {
		t.Fatalf("the next day's spike: %+v", run)
	}
	if n := len(spikeEvents(t, s, ActionKeyUsageSpike)); n != 3 {
		t.Fatalf("%d spike events in all, want 3", n)
	}
}

// TestSpikePolicy: an organization's multiple and floor decide for its
// keys and those below.
func TestSpikePolicy(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	_, acme, eu, _ := testOrgs(t, s)
	if _, err := s.SetOrgPolicy(ctx, testActor, acme.ID, Policy{APIKeysEnabled: true, SpikeMultiple: 3, SpikeFloor: 50}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetOrgPolicy(ctx, testActor, eu.ID, Policy{APIKeysEnabled: true, SpikeMultiple: 1}); ErrorCode(err) != EINVALID {
		t.Fatalf("a multiple of 1: %v", err)
	}
	k, _ := mustCreateKey(t, s, NewKey{Name: "eu-key", Org: eu.ID, Enabled: true})
	for h := range 7 * 24 {
		addUsage(t, s, "key_usage_hourly", k.rowID, clock.Now().Add(time.Duration(h-7*24)*time.Hour), 20)
	}
	addUsage(t, s, "key_usage_hourly", k.rowID, clock.Now(), 61) // over 3 × 20 and over 50
	run, err := s.DetectSpikes(ctx)
	if err != nil || run.Keys != 1 {
		t.Fatalf("under Acme's policy: %+v, %v", run, err)
	}
}

// TestYoungSteadyKeyDoesNotSpikeAgain: a key first used at a steady rate
// spikes once (it had no history), and not again the next day: its usual
// is its average since it was first used, not over a whole week.
func TestYoungSteadyKeyDoesNotSpikeAgain(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	k, _ := mustCreateKey(t, s, NewKey{Name: "young", Enabled: true})
	clock.now = time.Date(2026, 11, 23, 20, 30, 0, 0, time.UTC)
	fired := 0
	for range 10 { // 20:30 to 05:30 the next day, 2,000 an hour
		addUsage(t, s, "key_usage_hourly", k.rowID, clock.Now(), 2000)
		run, err := s.DetectSpikes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fired += run.Keys
		clock.Advance(time.Hour)
	}
	if fired != 1 {
		t.Fatalf("a young steady key spiked %d times, want once (its first hour)", fired)
	}
}

// TestDeletedOrganizationTakesItsCounts: an organization deleted takes its
// refusals with it, so that one given its id later starts afresh.
func TestDeletedOrganizationTakesItsCounts(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	temp, err := s.CreateOrg(ctx, testActor, "Temp", "")
	if err != nil {
		t.Fatal(err)
	}
	for range 7 {
		s.VerifyKey(ctx, NewSecret(), "", temp.ID)
	}
	if err := s.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	s.VerifyKey(ctx, NewSecret(), "", temp.ID) // counted, not flushed yet
	if _, err := s.DeleteOrg(ctx, testActor, temp.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "org_refusals_hourly") + count(t, s, "org_refusals_daily"); n != 0 {
		t.Fatalf("%d rows of the deleted organization's refusals are left", n)
	}
}
