package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestKeyRetention: an organization's policy deletes its keys the set
// number of days after they expired or were revoked, the stricter of its
// own and those above; each deletion is an event; other keys stay.
func TestKeyRetention(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	_, acme, eu, beta := testOrgs(t, s)
	policy := func(o Org, days int) error {
		_, err := s.SetOrgPolicy(ctx, testActor, o.ID, Policy{APIKeysEnabled: true, DeleteAfterDays: days})
		return err
	}
	if err := policy(acme, 30); err != nil {
		t.Fatal(err)
	}
	changed, err := s.Events(ctx, Scope{}, EventQuery{EventFilter: EventFilter{Action: ActionOrgPolicyChanged}, Limit: 1})
	if err != nil || len(changed.Events) != 1 {
		t.Fatal(err)
	}
	if c := changed.Events[0].Changes; len(c) != 1 || c["delete_after_days"].Before != "" || c["delete_after_days"].After != float64(30) {
		t.Fatalf("the policy change records %v, want only delete_after_days \"\" → 30", c)
	}
	if err := policy(eu, 60); ErrorCode(err) != EINVALID {
		t.Fatalf("a child keeping keys longer than its parent allows: %v", err)
	}
	if err := policy(eu, 10); err != nil {
		t.Fatal(err)
	}
	t0 := clock.Now()
	key := func(name string, o Org, expires time.Duration) Key {
		in := NewKey{Name: name, Org: o.ID}
		if expires > 0 {
			in.ExpiresAt = t0.Add(expires)
		}
		k, _ := mustCreateKey(t, s, in)
		return k
	}
	day := 24 * time.Hour
	key("acme-expired", acme, time.Hour)
	key("acme-later", acme, 5*day)
	revoked := key("acme-revoked", acme, 0)
	key("acme-never", acme, 0)
	key("eu-expired", eu, time.Hour)
	key("beta-expired", beta, time.Hour)
	clock.Advance(time.Hour)
	if _, err := s.RevokeKey(ctx, testActor, revoked.ID); err != nil {
		t.Fatal(err)
	}
	remaining := func() []string {
		names, err := allRowsOf(s, `SELECT name FROM keys ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		return names
	}
	purge := func(at time.Duration) RetentionRun {
		clock.now = t0.Add(at)
		run, err := s.PurgeRetired(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	if run := purge(10 * day); run.Deleted != 0 || run.Orgs != 2 {
		t.Fatalf("10 days on: %+v", run)
	}
	if run := purge(11 * day); run.Deleted != 1 || !slices.Equal(remaining(), []string{"acme-expired", "acme-later", "acme-never", "acme-revoked", "beta-expired"}) {
		t.Fatalf("11 days on: %+v, left %v", run, remaining())
	}
	if run := purge(32 * day); run.Deleted != 2 || !slices.Equal(remaining(), []string{"acme-later", "acme-never", "beta-expired"}) {
		t.Fatalf("32 days on: %+v, left %v", run, remaining())
	}
	events, err := s.Events(ctx, Scope{}, EventQuery{EventFilter: EventFilter{Action: ActionKeyDeleted}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.Events) != 3 {
		t.Fatalf("%d deletion events", len(events.Events))
	}
	for _, e := range events.Events {
		if e.ActorUsername != "retention" || e.Details["reason"] != "retention" {
			t.Fatalf("event %+v", e)
		}
	}
}

// TestNoticeDaysPolicy: an organization's notice days replace the
// default for its keys and those below it; bad days are refused.
func TestNoticeDaysPolicy(t *testing.T) {
	for text, want := range map[string]string{"": "", "7, 30,7 ;1": "30,7,1", "0": "!", "366": "!", "x": "!", "1,2,3,4,5,6,7,8,9,10,11": "!"} {
		got, err := ParseNoticeDays(text)
		if (err != nil) != (want == "!") || (err == nil && got != want) {
			t.Errorf("ParseNoticeDays(%q) = %q, %v", text, got, err)
		}
	}
	s, clock := newTestStore(t)
	ctx := context.Background()
	_, acme, eu, beta := testOrgs(t, s)
	if _, err := s.SetOrgPolicy(ctx, testActor, acme.ID, Policy{APIKeysEnabled: true, NoticeDays: "10, 2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetOrgPolicy(ctx, testActor, beta.ID, Policy{APIKeysEnabled: true, NoticeDays: "-3"}); ErrorCode(err) != EINVALID {
		t.Fatalf("bad notice days: %v", err)
	}
	if _, err := s.PlanNotices(ctx); err != nil { // the first run starts the window
		t.Fatal(err)
	}
	in := func(o Org) Key {
		k, _ := mustCreateKey(t, s, NewKey{Name: "k-" + o.Name, Org: o.ID, ExpiresAt: clock.Now().Add(12*24*time.Hour + time.Minute)})
		return k
	}
	atEU, atBeta := in(eu), in(beta)
	for range 13 * 24 {
		clock.Advance(time.Hour)
		if _, err := s.PlanNotices(ctx); err != nil {
			t.Fatal(err)
		}
	}
	days := func(k Key) []string {
		got, err := allRowsOf(s, `SELECT days FROM notices WHERE key_id = ? AND kind = ? ORDER BY id`, k.ID, NoticeExpiring)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := days(atEU); !slices.Equal(got, []string{"10", "2", "0"}) {
		t.Fatalf("a key below Acme got notices at %v days, want Acme's 10 and 2, then 0", got)
	}
	if got := days(atBeta); !slices.Equal(got, []string{"7", "3", "1", "0"}) {
		t.Fatalf("a key of Beta got notices at %v days, want the default's", got)
	}
}
