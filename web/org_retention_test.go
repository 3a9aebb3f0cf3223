package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keydesk/keydesk/store"
)

// TestNoticeAndRetentionPolicy: an organization's notice days and key
// retention are set on its page, shown among the policy in effect, and
// refused beside their field, as typed, when wrong.
func TestNoticeAndRetentionPolicy(t *testing.T) {
	tc := newTestConsole(t)
	acme := tc.newOrg("Acme", "")
	tc.createKey("long-expired", func(in *store.NewKey) { in.Org = acme.ID; in.ExpiresAt = tc.clock.now.Add(time.Hour) })
	tc.createKey("fresh", func(in *store.NewKey) { in.Org = acme.ID })
	tc.clock.now = tc.clock.now.Add(100 * 24 * time.Hour)
	admin := tc.loggedIn("admin")
	policy := url.Values{"api_keys_enabled": {"on"}, "notice_days": {"7, 21,1"}, "delete_after_days": {"90"}, "spike_multiple": {"5"}, "spike_floor": {"200"}}
	wantStatus(t, admin.post("/orgs/"+acme.ID+"/policy", policy), http.StatusSeeOther)
	if msg := admin.flash("/orgs/" + acme.ID); !strings.Contains(msg, "1 key is already past it and will be deleted within the hour.") {
		t.Fatalf("saving a retention says %q", msg)
	}
	got := tc.org(acme.ID).Policy
	if got.NoticeDays != "21,7,1" || got.DeleteAfterDays != 90 || got.SpikeMultiple != 5 || got.SpikeFloor != 200 {
		t.Fatalf("saved %+v", got)
	}
	d := admin.get("/orgs/" + acme.ID).doc()
	if v := d.Find("[data-testid=policy-notice-days]").AttrOr("value", ""); v != "21, 7, 1" {
		t.Fatalf("the form shows notice days %q", v)
	}
	chips := admin.get("/orgs").doc().Find("[data-testid=org-row]").Text()
	if !strings.Contains(chips, "Notices at 21, 7, 1 days") || !strings.Contains(chips, "Delete 90 days after the end") || !strings.Contains(chips, "Spike at 5× and 200") {
		t.Fatalf("the list's policy in effect: %q", chips)
	}

	before := tc.orgSnapshot()
	policy.Set("notice_days", "30, soon")
	res := admin.post("/orgs/"+acme.ID+"/policy", policy)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	d = res.doc()
	if msg := d.Find("#notice_days-error").Text(); !strings.Contains(msg, "separated by commas") {
		t.Fatalf("the notice days' message: %q", msg)
	}
	if v := d.Find("[data-testid=policy-notice-days]").AttrOr("value", ""); v != "30, soon" {
		t.Fatalf("the form lost what was typed: %q", v)
	}
	policy.Set("notice_days", "")
	policy.Set("delete_after_days", "0")
	res = admin.post("/orgs/"+acme.ID+"/policy", policy)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if msg := res.doc().Find("#delete_after_days-error").Text(); msg == "" {
		t.Fatal("no message beside a retention of 0 days")
	}
	policy.Set("delete_after_days", "90")
	policy.Set("spike_multiple", "1")
	res = admin.post("/orgs/"+acme.ID+"/policy", policy)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if msg := res.doc().Find("#spike_multiple-error").Text(); !strings.Contains(msg, "from 2") {
		t.Fatalf("the multiple's message: %q", msg)
	}
	if tc.orgSnapshot() != before {
		t.Fatal("a refused policy changed something")
	}
}
