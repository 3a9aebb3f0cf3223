package web

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"

	"github.com/keydesk/keydesk/store"
)

// TestCalendarFeed: a user gets a private calendar address on their
// profile, shown once; the feed, fetched without a session, is valid
// iCalendar listing the expiry and rotation dates of the keys they can
// see, and nothing else; a new address ends the old one, and turning it
// off ends both.
func TestCalendarFeed(t *testing.T) {
	tc := newTestConsole(t)
	var logs bytes.Buffer
	h, err := New(t.Context(), tc.store, Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	tc.h = h
	admin := tc.loggedIn("admin")
	day := 24 * time.Hour
	soon := tc.clock.now.Add(3 * day).Truncate(time.Second)
	k := tc.createKey(`billing, "eu"; <prod>`, func(in *store.NewKey) { in.ExpiresAt = soon })
	rotating := tc.createKey("rotating", func(in *store.NewKey) { in.RotateEveryDays = 90 })
	revoked := tc.createKey("revoked", func(in *store.NewKey) { in.ExpiresAt = soon })
	if _, err := tc.store.RevokeKey(t.Context(), store.SystemActor("test"), revoked.ID); err != nil {
		t.Fatal(err)
	}
	other := tc.newOrg("Other", "")
	tc.createKey("elsewhere", func(in *store.NewKey) { in.ExpiresAt = soon; in.Org = other.ID })
	tc.createKey("never")

	if d := admin.get("/profile").doc(); d.Find("[data-testid=calendar-state]").Length() != 0 {
		t.Fatal("a calendar before asking for one")
	}
	last := tc.lastEventID()
	res := admin.post("/profile/calendar", nil)
	wantStatus(t, res, http.StatusCreated)
	if res.Header().Get("Cache-Control") != "no-store" {
		t.Fatal("the page with the address may be cached")
	}
	feedURL := res.doc().Find("[data-testid=calendar-url]").AttrOr("value", "")
	u, err := url.Parse(feedURL)
	if err != nil || !strings.HasPrefix(u.Path, "/calendar/kdc_") || !strings.HasSuffix(u.Path, ".ics") {
		t.Fatalf("calendar address %q", feedURL)
	}
	if ev := tc.eventsSince(last); len(ev) != 1 || ev[0].Action != store.ActionCalendarCreated {
		t.Fatalf("events %+v", ev)
	}
	page := admin.get("/profile")
	if strings.Contains(page.Body.String(), u.Path) || page.doc().Find("[data-testid=calendar-state]").Length() != 1 {
		t.Fatal("the profile shows the address again, or not that there is one")
	}

	stranger := tc.client() // no session: the token is the credential
	feed := stranger.get(u.Path)
	wantStatus(t, feed, http.StatusOK)
	if ct := feed.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/calendar") {
		t.Fatalf("Content-Type %q", ct)
	}
	body := feed.Body.Bytes()
	for i, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\r\n")), []byte("\r\n")) {
		if len(line) > 75 || bytes.ContainsRune(line, '\n') || !utf8.Valid(line) {
			t.Fatalf("line %d is not folded or not CRLF-terminated: %q", i+1, line)
		}
	}
	if !bytes.Contains(body, []byte("\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n")) {
		t.Fatalf("no refresh interval, or a malformed one:\n%s", body)
	}
	cal, err := ical.NewDecoder(bytes.NewReader(body)).Decode()
	if err != nil {
		t.Fatalf("the feed does not parse: %v\n%s", err, body)
	}
	if v, _ := cal.Props.Text(ical.PropVersion); v != "2.0" {
		t.Fatalf("VERSION %q", v)
	}
	got := map[string]time.Time{}
	uids := map[string]bool{}
	for _, ev := range cal.Events() {
		summary, _ := ev.Props.Text(ical.PropSummary)
		uid, _ := ev.Props.Text(ical.PropUID)
		start, err := ev.DateTimeStart(time.UTC)
		if err != nil || uid == "" || uids[uid] || ev.Props.Get(ical.PropDateTimeStamp) == nil {
			t.Fatalf("event %q: uid %q, start %v", summary, uid, err)
		}
		uids[uid] = true
		got[summary] = start
		link, _ := ev.Props.URI(ical.PropURL)
		if link == nil || !strings.HasPrefix(link.Path, "/keys/") {
			t.Fatalf("event %q links to %v", summary, link)
		}
	}
	want := map[string]time.Time{
		"API key “" + k.Name + "” expires":       soon,
		"API key “rotating” is due for rotation": rotating.CreatedAt.Add(90 * day),
		"API key “elsewhere” expires":            soon, // an organization below the admin's
	}
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for s, at := range want {
		if !got[s].Equal(at) {
			t.Fatalf("%q at %v, want %v (all: %v)", s, got[s], at, got)
		}
	}

	// A new address ends the old one; turning it off ends it too.
	wantStatus(t, admin.post("/profile/calendar", nil), http.StatusCreated)
	wantStatus(t, stranger.get(u.Path), http.StatusNotFound)
	if strings.Contains(logs.String(), "kdc_") || !strings.Contains(logs.String(), "/calendar/") {
		t.Fatalf("the logs hold the calendar's token, or no request for it:\n%s", logs.String())
	}
	wantStatus(t, admin.post("/profile/calendar/delete", nil), http.StatusSeeOther)
	if d := admin.get("/profile").doc(); d.Find("[data-testid=calendar-state]").Length() != 0 {
		t.Fatal("the profile still says there is a calendar")
	}
	wantStatus(t, admin.post("/profile/calendar/delete", nil), http.StatusNotFound)
	wantStatus(t, stranger.get("/calendar/kdc_nothing.ics"), http.StatusNotFound)
	wantStatus(t, stranger.get("/calendar/whatever"), http.StatusNotFound)

	// Someone of the other organization sees its keys only; when they are
	// disabled, their calendar stops.
	tc.newUserAt("other-viewer", store.RoleViewer, other)
	viewer := tc.loggedIn("other-viewer")
	res = viewer.post("/profile/calendar", nil)
	wantStatus(t, res, http.StatusCreated)
	vu, _ := url.Parse(res.doc().Find("[data-testid=calendar-url]").AttrOr("value", ""))
	feed = stranger.get(vu.Path)
	wantStatus(t, feed, http.StatusOK)
	cal, err = ical.NewDecoder(bytes.NewReader(feed.Body.Bytes())).Decode()
	if err != nil || len(cal.Events()) != 1 {
		t.Fatalf("the other organization's feed: %v\n%s", err, feed.Body)
	}
	if s, _ := cal.Events()[0].Props.Text(ical.PropSummary); s != "API key “elsewhere” expires" {
		t.Fatalf("the other organization's feed lists %q", s)
	}
	me, _ := tc.store.Authenticate(t.Context(), "other-viewer", testPassword)
	if _, err := tc.store.DisableUser(t.Context(), store.SystemActor("test"), me.ID); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, stranger.get(vu.Path), http.StatusNotFound)
}
