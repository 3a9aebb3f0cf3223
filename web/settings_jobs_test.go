package web

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/keydesk/keydesk/jobs"
	"github.com/keydesk/keydesk/store"
)

// TestJobsPanel: Settings lists every job, with its last run's summary or
// error, its failures in a row, and when it runs next.
func TestJobsPanel(t *testing.T) {
	tc := newTestConsole(t)
	ctx := context.Background()
	admin := tc.loggedIn("admin")
	rows := admin.get("/settings").doc().Find("[data-testid=job-row]")
	if rows.Length() != len(jobs.Catalog) {
		t.Fatalf("%d job rows, want one per job (%d)", rows.Length(), len(jobs.Catalog))
	}
	if last := rows.First().Find("[data-testid=job-last]").Text(); !strings.Contains(last, "Not yet") {
		t.Fatalf("a job that never ran says %q", last)
	}

	runs := 0
	r := &jobs.Runner{Store: tc.store, Owner: "test", Jobs: []jobs.Job{
		{Info: jobs.Rotate, Run: func(context.Context) (string, error) { return "3 keys rotated", nil }},
		{Info: jobs.EventsRetention, Run: func(context.Context) (string, error) {
			runs++
			return "", errors.New("disk full")
		}},
	}}
	for range 2 {
		if _, err := r.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		tc.clock.now = tc.clock.now.Add(time.Hour)
	}
	tc.clock.now = tc.clock.now.Add(-30 * time.Minute)
	// A new session: the old one timed out while the clock moved.
	d := tc.loggedIn("admin").get("/settings").doc()
	row := func(name string) *goquery.Selection {
		return d.Find("[data-testid=job-row][data-job=" + name + "]")
	}
	rot, ret := row(jobs.Rotate.Name), row(jobs.EventsRetention.Name)
	if got := rot.Find("[data-testid=job-last]").Text(); !strings.Contains(got, "3 keys rotated") || !strings.Contains(got, "30 minutes ago") {
		t.Fatalf("the rotation's last run says %q", got)
	}
	if got := ret.Find("[data-testid=job-error]").Text(); got != "Failed: disk full" {
		t.Fatalf("the failed job says %q", got)
	}
	if got := strings.TrimSpace(ret.Find("[data-testid=job-failures]").Text()); got != "2 in a row" || runs != 2 {
		t.Fatalf("failures %q after %d runs", got, runs)
	}
	if got := strings.TrimSpace(rot.Find("[data-testid=job-next]").Text()); got != "Within a minute" {
		t.Fatalf("an overdue job's next run says %q", got)
	}
	if got := strings.TrimSpace(ret.Find("[data-testid=job-next]").Text()); got != "in 30 minutes" {
		t.Fatalf("the hourly job's next run says %q", got)
	}

	// Someone who sees part of the tree only does not see the jobs, whose
	// errors may name any organization.
	tc.newUserAt("acme-admin", store.RoleAdministrator, tc.newOrg("Acme", ""))
	if n := tc.loggedIn("acme-admin").get("/settings").doc().Find("[data-testid=job-row]").Length(); n != 0 {
		t.Fatalf("an organization's administrator sees %d jobs", n)
	}
}
