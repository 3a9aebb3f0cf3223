package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views/form"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func renderDoc(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	d, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func admin() store.User {
	u := store.User{ID: 1, Username: "admin"}
	for _, r := range store.Rights {
		u.Rights = append(u.Rights, r.Right)
	}
	return u
}

func TestStatusBadgeHasTextAndIcon(t *testing.T) {
	cases := map[string]store.Key{
		"Available":        {Enabled: true},
		"Soon unavailable": {Enabled: true, ExpiresAt: now.Add(24 * time.Hour)},
		"Disabled":         {},
		"Expired":          {Enabled: true, ExpiresAt: now.Add(-time.Hour)},
		"Revoked":          {Enabled: true, RevokedAt: now.Add(-time.Hour)},
	}
	for want, k := range cases {
		d := renderDoc(t, StatusBadge(k, now))
		badge := d.Find(`[data-testid=status]`)
		if got := strings.TrimSpace(badge.Text()); got != want {
			t.Errorf("badge text %q, want %q", got, want)
		}
		if badge.Find("svg[aria-hidden=true]").Length() != 1 {
			t.Errorf("%s badge has no icon", want)
		}
	}
}

func TestRelTime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		12 * 24 * time.Hour:               "in 12 days",
		30*24*time.Hour - 2*time.Minute:   "in 30 days",
		-(29*24*time.Hour + 23*time.Hour): "30 days ago",
		-3 * 24 * time.Hour:               "3 days ago",
		-3 * time.Hour:                    "3 hours ago",
		90 * time.Second:                  "in 1 minute",
		10 * time.Second:                  "in under a minute",
		-10 * time.Second:                 "just now",
		400 * 24 * time.Hour:              "in 1 year",
		-95 * 24 * time.Hour:              "3 months ago",
	} {
		d := renderDoc(t, RelTime(now.Add(d), now)).Find("time")
		if got := d.Text(); got != want {
			t.Errorf("relTime = %q, want %q", got, want)
		}
		if _, err := time.Parse(time.RFC3339, d.AttrOr("datetime", "")); err != nil || !strings.HasSuffix(d.AttrOr("title", ""), "UTC") {
			t.Errorf("time element %q / %q", d.AttrOr("datetime", ""), d.AttrOr("title", ""))
		}
	}
}

func TestKeyRowEscapesAndOffersOnlyAllowedActions(t *testing.T) {
	k := store.Key{ID: "abc", Name: `<img src=x onerror=alert(1)>`, Enabled: true, Permissions: []string{"chat"}, Hint: "kd_abc…wxyz", CreatedAt: now}
	p := Page{User: admin(), Now: now, CSRF: "tok"}
	var buf bytes.Buffer
	if err := KeyRow(p, k, "/keys", false, "", nil).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "<img") {
		t.Fatal("the name is not escaped")
	}
	d := renderDoc(t, KeyRow(p, k, "/keys", false, "", nil))
	for _, id := range []string{"row-copy", "row-revoke", "row-delete", "row-expire", "enabled-switch", "select-row"} {
		if d.Find(`[data-testid=`+id+`]`).Length() != 1 {
			t.Errorf("admin row lacks %s", id)
		}
	}
	if d.Find(`input[name=_csrf][value=tok]`).Length() == 0 {
		t.Error("row forms carry no CSRF token")
	}
	viewer := Page{User: store.User{ID: 2, Username: "v", Rights: []store.Right{store.RightKeysView, store.RightKeysRead}}, Now: now}
	d = renderDoc(t, KeyRow(viewer, k, "/keys", false, "", nil))
	for _, id := range []string{"row-copy", "row-revoke", "row-delete", "row-expire", "enabled-switch", "select-row"} {
		if d.Find(`[data-testid=`+id+`]`).Length() != 0 {
			t.Errorf("viewer row offers %s", id)
		}
	}
	// A revoked key offers no revoke, expire or enable.
	k.RevokedAt = now.Add(-time.Hour)
	d = renderDoc(t, KeyRow(p, k, "/keys", false, "", nil))
	for _, id := range []string{"row-revoke", "row-expire", "enabled-switch"} {
		if d.Find(`[data-testid=`+id+`]`).Length() != 0 {
			t.Errorf("revoked row offers %s", id)
		}
	}
}

func TestKeyListEmptyAndNoMatch(t *testing.T) {
	p := Page{User: admin(), Now: now}
	d := renderDoc(t, KeyResults(p, KeyList{}))
	if d.Find(`[data-testid=empty-state] a[href="/keys/new"]`).Length() != 1 {
		t.Fatal("the empty state does not invite creating a key")
	}
	d = renderDoc(t, KeyResults(p, KeyList{Params: form.KeyListParams{Search: "<b>x</b>", Sort: store.SortName}}))
	if got := d.Find(`[data-testid=no-match] h2`).Text(); got != "No keys match “<b>x</b>”" {
		t.Fatalf("no-match heading %q", got)
	}
}

func TestLayoutCarriesTokenAndConfig(t *testing.T) {
	d := renderDoc(t, LoginPage(Page{CSRF: "tok123", Title: "Log in"}, Login{Username: "ann"}))
	if d.Find(`meta[name=csrf-token]`).AttrOr("content", "") != "tok123" {
		t.Fatal("no csrf meta tag")
	}
	cfg := d.Find(`meta[name=htmx-config]`).AttrOr("content", "")
	for _, want := range []string{`"allowEval":false`, `"selfRequestsOnly":true`, `"historyCacheSize":0`, `"includeIndicatorStyles":false`} {
		if !strings.Contains(cfg, want) {
			t.Errorf("htmx config lacks %s", want)
		}
	}
	if d.Find("script:not([src])").Length() != 0 || d.Find("[style]").Length() != 0 {
		t.Fatal("inline script or style, which the CSP forbids")
	}
	if d.Find(`[data-testid=username]`).AttrOr("value", "") != "ann" {
		t.Fatal("the username is not kept")
	}
}

func TestEventResultsSayHowManyMatch(t *testing.T) {
	p := Page{User: admin(), Now: now}
	events := []store.Event{{ID: 1, At: now, ActorUsername: "admin", Action: store.ActionLogout}}
	for _, c := range []struct {
		page store.EventPage
		want string
	}{
		{store.EventPage{Events: events, Total: 1}, "1 event"},
		{store.EventPage{Events: events, Total: 9_999}, "9,999 events"},
		{store.EventPage{Events: events, Total: store.EventCountLimit, More: true}, "More than 10,000 events"},
	} {
		d := renderDoc(t, EventResults(p, EventList{Page: c.page}))
		if got := strings.TrimSpace(d.Find(`[data-testid=event-count]`).Text()); got != c.want {
			t.Errorf("total %d, more %v: %q, want %q", c.page.Total, c.page.More, got, c.want)
		}
	}
}

// TestEveryActionHasALabel: the audit log's filter and rows name each
// action in words, never by its code.
func TestEveryActionHasALabel(t *testing.T) {
	for _, a := range store.EventActions {
		if actionLabel(a) == a {
			t.Errorf("action %s has no label", a)
		}
	}
}

// TestSparkline: the busiest hour reaches the top, an idle one the
// bottom, the hours in order from the left; an idle key draws a flat line.
func TestSparkline(t *testing.T) {
	line := renderDoc(t, sparkline([]int64{0, 10, 5})).Find("polyline").AttrOr("points", "")
	if line != "0.0,17.0 36.0,1.0 72.0,9.0" {
		t.Fatalf("points %q", line)
	}
	if flat := renderDoc(t, sparkline([]int64{0, 0, 0})).Find("polyline").AttrOr("points", ""); flat != "0.0,17.0 36.0,17.0 72.0,17.0" {
		t.Fatalf("an idle key's line %q", flat)
	}
}
