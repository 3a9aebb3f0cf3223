package web

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/keydesk/keydesk/store"
)

// TestProfileNotices: a user sets their email address and the notices
// they want on their profile; the change is one event, and a bad address
// comes back beside its field, as typed, changing nothing.
func TestProfileNotices(t *testing.T) {
	tc := newTestConsole(t)
	admin := tc.loggedIn("admin")
	me, _ := tc.store.Authenticate(t.Context(), "admin", testPassword)

	d := admin.get("/profile").doc()
	if d.Find("[data-testid=mail-off]").Length() != 1 {
		t.Fatal("the profile does not say this server sends no email")
	}
	for _, kind := range store.NoticeKinds {
		if _, on := d.Find(`[data-testid="notice-` + kind + `"]`).Attr("checked"); !on {
			t.Fatalf("a new user does not get %s notices by default", kind)
		}
	}

	last := tc.lastEventID()
	res := admin.post("/profile/notices", url.Values{
		"email":   {" ops@example.com "},
		"notices": {store.NoticeExpiring, store.NoticeGraceEnding},
	})
	wantStatus(t, res, http.StatusSeeOther)
	got, err := tc.store.NoticeSettingsOf(t.Context(), me.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{store.NoticeRotated, store.NoticeRotationDue, store.NoticeUsageSpike}
	slices.Sort(want)
	if got.Email != "ops@example.com" || !slices.Equal(got.OptedOut, want) {
		t.Fatalf("saved %+v, want ops@example.com opting out of %v", got, want)
	}
	events := tc.eventsSince(last)
	if len(events) != 1 || events[0].Action != store.ActionNoticesChanged || events[0].Changes["email"].After != "ops@example.com" {
		t.Fatalf("events %+v, want one %s naming the address", events, store.ActionNoticesChanged)
	}
	page := admin.get("/profile")
	if msg := page.testid("flash"); msg != "Your notices were saved." {
		t.Fatalf("flash %q", msg)
	}
	d = page.doc()
	if v := d.Find(`[data-testid=email]`).AttrOr("value", ""); v != "ops@example.com" {
		t.Fatalf("the profile shows the address %q", v)
	}
	if _, on := d.Find(`[data-testid="notice-` + store.NoticeRotated + `"]`).Attr("checked"); on {
		t.Fatal("an opted-out kind is still ticked")
	}

	last = tc.lastEventID()
	res = admin.post("/profile/notices", url.Values{"email": {"not an address"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	d = res.doc()
	if v := d.Find(`[data-testid=email]`).AttrOr("value", ""); v != "not an address" {
		t.Fatalf("the form lost what was typed: %q", v)
	}
	if msg := d.Find(`#email-error`).Text(); msg == "" {
		t.Fatal("no message beside the email field")
	}
	if _, on := d.Find(`[data-testid="notice-` + store.NoticeExpiring + `"]`).Attr("checked"); on {
		t.Fatal("the form ticks a kind that was unticked when it was sent")
	}
	if after, _ := tc.store.NoticeSettingsOf(t.Context(), me.ID); after.Email != "ops@example.com" || len(tc.eventsSince(last)) != 0 {
		t.Fatalf("a refused change changed %+v", after)
	}
	wantStatus(t, admin.postRaw("/profile/notices", url.Values{"email": {"x@example.com"}}), http.StatusForbidden)
}
