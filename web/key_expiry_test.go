package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/keydesk/keydesk/store"
)

// expiryShown is what a page's expiry fields hold, as date and time.
func expiryShown(d *goquery.Document) (string, string) {
	return d.Find(`[data-testid=expires-at]`).AttrOr("value", ""), d.Find(`[data-testid=expires-time]`).AttrOr("value", "")
}

// Without script, a quick pick on the New key form sends the form back,
// kept as typed, expiring exactly that many days from now, to the minute.
func TestNewKeyQuickPickWithoutScript(t *testing.T) {
	tc := newTestConsole(t)
	tc.clock.now = time.Date(2026, 11, 23, 12, 0, 20, 0, time.UTC) // a minute already begun
	cl := tc.loggedIn("admin")
	d := cl.get("/keys/new").doc()
	// Enter in a field submits the first submit button: Create, not a pick.
	if first := d.Find(`[data-testid=key-form] button[type=submit]`).First(); first.Text() != "Create API key" || first.AttrOr("name", "") != "" {
		t.Fatalf("the form's first submit button is %q", first.Text())
	}
	for _, days := range []string{"30", "90", "365"} {
		if d.Find(`[data-testid=key-form] button[type=submit][name=expires_in][value="`+days+`"]`).Length() != 1 {
			t.Fatalf("no quick pick of %s days", days)
		}
	}
	form := url.Values{"name": {"picked"}, "permissions": {"chat"}, "enabled": {"on"}, "never_expires": {"on"}, "capacity": {"7"}, "expires_in": {"30"}}
	for _, headers := range [][]string{nil, {"HX-Request", "true", "HX-Boosted", "true"}} {
		res := cl.post("/keys", form, headers...)
		wantStatus(t, res, http.StatusOK)
		d = res.doc()
		if date, clock := expiryShown(d); date != "2026-12-23" || clock != "12:01" {
			t.Fatalf("the pick shows %q %q, want 2026-12-23 12:01", date, clock)
		}
		if d.Find(`[data-testid=never-expires][checked]`).Length() != 0 || d.Find(`[data-testid=name]`).AttrOr("value", "") != "picked" ||
			d.Find(`[data-testid=capacity]`).AttrOr("value", "") != "7" || d.Find(`.field-error`).Length() != 0 {
			t.Fatal("the form did not come back as it was sent")
		}
	}
	if page, _ := tc.store.Keys(t.Context(), store.Scope{}, store.KeyQuery{Sort: store.SortName}); page.Total != 0 {
		t.Fatal("a quick pick created the key")
	}
	res := cl.post("/keys", url.Values{"name": {"picked"}, "permissions": {"chat"}, "expires_in": {"-1"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if res.testid("expires_at-error") == "" {
		t.Fatal("a bad quick pick has no message")
	}
}

// The date and the optional time post as expires_at and expires_time.
func TestNewKeyExpiryDateAndTime(t *testing.T) {
	tc := newTestConsole(t)
	cl := tc.loggedIn("admin")
	for name, c := range map[string]struct {
		date, clock string
		want        time.Time
	}{
		"timed-key": {"2027-01-02", "09:30", time.Date(2027, 1, 2, 9, 30, 0, 0, time.UTC)},
		"dated-key": {"2027-01-03", "", time.Date(2027, 1, 3, 0, 0, 0, 0, time.UTC)},
	} {
		wantStatus(t, cl.post("/keys", url.Values{"name": {name}, "permissions": {"chat"}, "expires_at": {c.date}, "expires_time": {c.clock}}), http.StatusCreated)
		page, _ := tc.store.Keys(t.Context(), store.Scope{}, store.KeyQuery{KeyFilter: store.KeyFilter{Search: name}, Sort: store.SortName})
		if page.Total != 1 || !page.Keys[0].ExpiresAt.Equal(c.want) {
			t.Fatalf("%s: %+v, want expiry %v", name, page.Keys, c.want)
		}
	}
	// A time is kept when the form comes back with an error.
	res := cl.post("/keys", url.Values{"name": {""}, "permissions": {"chat"}, "expires_at": {"2027-01-02"}, "expires_time": {"09:30"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if date, clock := expiryShown(res.doc()); date != "2027-01-02" || clock != "09:30" {
		t.Fatalf("kept %q %q", date, clock)
	}
}

// The details page offers the same quick picks, which save at once, and its
// fields always hold a value the browser accepts, after Expire now too.
func TestKeyDetailsExpiry(t *testing.T) {
	tc := newTestConsole(t)
	tc.clock.now = time.Date(2026, 11, 23, 12, 0, 20, 0, time.UTC)
	k := tc.createKey("detailed")
	cl := tc.loggedIn("admin")
	d := cl.get("/keys/" + k.ID).doc()
	for _, days := range []string{"30", "90", "365"} {
		pick := d.Find(`button[type=submit][name=expires_in][value="` + days + `"]`)
		owner := pick.AttrOr("form", "")
		if pick.Length() != 1 || owner == "" || d.Find(`form#`+owner+`[action="/keys/`+k.ID+`/expire"] input[name=_csrf]`).Length() != 1 {
			t.Fatalf("no quick pick of %s days with a form of its own", days)
		}
	}
	// The expiry form's own first submit button saves what was typed.
	if got := d.Find(`[data-testid=expiry-form] button[type=submit]:not([form])`).First().AttrOr("data-testid", ""); got != "save-expiry" {
		t.Fatalf("Enter in the expiry form presses %q", got)
	}

	res := cl.post("/keys/"+k.ID+"/expire", url.Values{"expires_in": {"30"}, "return": {"/keys/" + k.ID}})
	wantStatus(t, res, http.StatusSeeOther)
	got, _ := tc.store.Key(t.Context(), store.Scope{}, k.ID)
	if want := time.Date(2026, 12, 23, 12, 1, 0, 0, time.UTC); !got.ExpiresAt.Equal(want) {
		t.Fatalf("expires %v, want %v", got.ExpiresAt, want)
	}
	d = cl.get("/keys/" + k.ID).doc()
	if date, clock := expiryShown(d); date != "2026-12-23" || clock != "12:01" {
		t.Fatalf("the form shows %q %q", date, clock)
	}
	if !strings.Contains(d.Find(`[data-testid=facts]`).Text(), "in 30 days") {
		t.Fatal("the details do not say in 30 days")
	}

	// A date and a time from the form.
	wantStatus(t, cl.post("/keys/"+k.ID+"/expire", url.Values{"expires_at": {"2027-01-02"}, "expires_time": {"08:15"}, "expiry_form": {"1"}}), http.StatusSeeOther)
	if got, _ := tc.store.Key(t.Context(), store.Scope{}, k.ID); !got.ExpiresAt.Equal(time.Date(2027, 1, 2, 8, 15, 0, 0, time.UTC)) {
		t.Fatalf("expires %v", got.ExpiresAt)
	}

	// After Expire now, the fields show when it expired.
	wantStatus(t, cl.post("/keys/"+k.ID+"/expire", url.Values{"now": {"1"}}), http.StatusSeeOther)
	date, clock := expiryShown(cl.get("/keys/" + k.ID).doc())
	if _, err := time.Parse("2006-01-02 15:04", date+" "+clock); err != nil || date != "2026-11-23" {
		t.Fatalf("after Expire now the fields hold %q %q", date, clock)
	}
}
