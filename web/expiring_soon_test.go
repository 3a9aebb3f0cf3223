package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/keydesk/keydesk/store"
)

// TestExpiringSoon: the key list's panel counts the keys of the user's
// organizations that expire within 30 days, neither revoked nor expired
// (what the Soon Unavailable filter lists), and names the nearest;
// the navigation's badge counts them on every page, follows a change at
// once, and the clock within a minute.
func TestExpiringSoon(t *testing.T) {
	tc := newTestConsole(t)
	admin := tc.loggedIn("admin")
	day := 24 * time.Hour
	d := admin.get("/keys").doc()
	if d.Find("[data-testid=soon-panel]").Length() != 0 || d.Find("[data-testid=soon-badge]").Length() != 0 {
		t.Fatal("a panel or badge with no key expiring")
	}

	expiring := func(d time.Duration) func(*store.NewKey) {
		return func(in *store.NewKey) { in.ExpiresAt = tc.clock.now.Add(d) }
	}
	tc.createKey("b-ten-days", expiring(10*day))
	tc.createKey("a-two-days", expiring(2*day))
	tc.createKey("later", expiring(40*day))
	tc.createKey("never")
	revoked := tc.createKey("revoked", expiring(day))
	disabled := tc.createKey("disabled", expiring(3*day))
	if _, err := tc.store.RevokeKey(t.Context(), store.SystemActor("test"), revoked.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.store.DisableKey(t.Context(), store.SystemActor("test"), disabled.ID); err != nil {
		t.Fatal(err)
	}
	other := tc.newOrg("Other", "")
	tc.createKey("elsewhere", expiring(day), func(in *store.NewKey) { in.Org = other.ID })

	d = admin.get("/keys").doc()
	panel := d.Find("[data-testid=soon-panel]")
	if got := panel.Find("[data-testid=soon-count]").Text(); got != "4 keys expire within 30 days." {
		t.Fatalf("the panel says %q: %v", got, names(panel.Find("[data-testid=soon-key] a")))
	}
	if got := names(panel.Find("[data-testid=soon-key] a")); !slices.Equal(got, []string{"elsewhere", "a-two-days", "disabled", "b-ten-days"}) {
		t.Fatalf("the panel names %v, nearest first", got)
	}
	all, _ := url.Parse(panel.Find("[data-testid=soon-all]").AttrOr("href", ""))
	if all.Query().Get("status") != string(store.FilterSoon) || all.Query().Get("sort") != string(store.SortExpires) {
		t.Fatalf("Show them all links to %s", all)
	}
	if got := names(admin.get(all.String()).doc().Find("[data-testid=key-name]")); len(got) != 4 {
		t.Fatalf("the list it links to shows %v", got)
	}
	if got := badge(admin.get("/events")); got != "4" {
		t.Fatalf("the badge on the events page says %q", got)
	}
	// Filtered to an organization, the panel counts its keys, in the page
	// and in the list's htmx answer; the badge still counts them all.
	for _, res := range []response{admin.get("/keys?org=" + other.ID), admin.htmx("/keys?org=" + other.ID)} {
		panel := res.doc().Find("#soon-panel [data-testid=soon-panel]")
		if got := panel.Find("[data-testid=soon-count]").Text(); got != "1 key expires within 30 days." {
			t.Fatalf("filtered to Other, the panel says %q", got)
		}
		if href, _ := url.Parse(panel.Find("[data-testid=soon-all]").AttrOr("href", "")); href.Query().Get("org") != other.ID {
			t.Fatalf("Show them all leaves the organization: %s", href)
		}
	}
	if oob := admin.htmx("/keys?org="+other.ID).doc().Find("#soon-panel").AttrOr("hx-swap-oob", ""); oob != "true" {
		t.Fatalf("the htmx answer does not replace the panel: %q", oob)
	}

	// A change shows at once; the clock within a minute.
	tc.createKey("c-tomorrow", expiring(day))
	if got := badge(admin.get("/events")); got != "5" {
		t.Fatalf("after a new key the badge says %q", got)
	}
	tc.clock.now = tc.clock.now.Add(15 * day)
	// A new session: the old one timed out while the clock moved.
	admin = tc.loggedIn("admin")
	if got := badge(admin.get("/events")); got != "1" {
		t.Fatalf("15 days on the badge says %q, want 1 (the others expired, later now due)", got)
	}

	// People of another organization count theirs only.
	tc.newUserAt("other-manager", store.RoleKeyManager, other)
	tc.clock.now = tc.clock.now.Add(-15 * day)
	outsider := tc.loggedIn("other-manager")
	if got := badge(outsider.get("/keys")); got != "1" {
		t.Fatalf("another organization's badge says %q", got)
	}
}

func names(s *goquery.Selection) []string {
	var out []string
	s.Each(func(_ int, a *goquery.Selection) { out = append(out, strings.TrimSpace(a.Text())) })
	return out
}

func badge(r response) string {
	if r.Code != http.StatusOK {
		r.t.Fatalf("status %d", r.Code)
	}
	return strings.TrimSpace(r.doc().Find("[data-testid=soon-badge] [aria-hidden]").Text())
}
