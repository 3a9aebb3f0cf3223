package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/keydesk/keydesk/store"
)

func TestKeyListPageAndFragment(t *testing.T) {
	tc := newTestConsole(t)
	cl := tc.loggedIn("viewer")

	empty := cl.get("/keys")
	wantStatus(t, empty, http.StatusOK)
	if empty.doc().Find(`[data-testid=empty-state]`).Length() != 1 {
		t.Fatal("no empty state on an empty list")
	}
	if empty.doc().Find(`[data-testid=new-key]`).Length() != 0 {
		t.Fatal("a viewer is offered New API key")
	}

	tc.createKey("billing-prod")
	tc.createKey("billing-dev", func(k *store.NewKey) { k.Permissions = []string{"securemail"} })
	tc.createKey("search-prod")

	full := cl.get("/keys?q=billing")
	wantStatus(t, full, http.StatusOK)
	d := full.doc()
	if d.Find("html").Length() != 1 || d.Find(`[data-testid=key-row]`).Length() != 2 {
		t.Fatalf("full page with %d rows", d.Find(`[data-testid=key-row]`).Length())
	}
	if got := full.testid("key-count"); got != "2 keys match" {
		t.Fatalf("count %q", got)
	}
	if d.Find(`#key-search`).AttrOr("value", "") != "billing" {
		t.Fatal("the search box lost the search")
	}

	frag := cl.get("/keys?q=billing&permission=securemail", "HX-Request", "true", "HX-Trigger", "key-filters")
	wantStatus(t, frag, http.StatusOK)
	if strings.Contains(frag.Body.String(), "<html") {
		t.Fatal("htmx got the whole page")
	}
	if n := frag.doc().Find(`[data-testid=key-row]`).Length(); n != 1 {
		t.Fatalf("fragment has %d rows", n)
	}
	if got := frag.Header().Get("HX-Replace-Url"); got != "/keys?permission=securemail&q=billing" {
		t.Fatalf("HX-Replace-Url %q", got)
	}
	// The filter controls come along, out of band, to stay in step.
	if frag.doc().Find(`#key-controls[hx-swap-oob]`).Length() != 1 {
		t.Fatal("no out-of-band controls")
	}

	// A status button flips its status; without htmx it lands on the list's own URL.
	res := cl.get("/keys?q=billing&status=soon&toggle_status=available")
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header().Get("Location"); loc != "/keys?q=billing&status=soon&status=available" {
		t.Fatalf("Location %q", loc)
	}
	toggled := cl.htmx("/keys?status=available&toggle_status=available")
	if toggled.Header().Get("HX-Push-Url") != "/keys" {
		t.Fatalf("HX-Push-Url %q", toggled.Header().Get("HX-Push-Url"))
	}

	none := cl.get("/keys?q=zzz")
	if got := none.testid("no-match"); !strings.Contains(got, "No keys match “zzz”") {
		t.Fatalf("no-match text %q", got)
	}
}

func TestKeyListRefusesTamperedParameters(t *testing.T) {
	tc := newTestConsole(t)
	cl := tc.loggedIn("admin")
	for _, q := range []string{"sort=secret_hash", "status=deleted", "dir=sideways", "permission=voice", "after=%25%25", "after=a&before=b", "toggle_status=x"} {
		for _, path := range []string{"/keys?", "/keys/export.csv?"} {
			if path == "/keys/export.csv?" && strings.HasPrefix(q, "after") {
				continue // the export has no pages
			}
			res := cl.get(path + q)
			if res.Code != http.StatusBadRequest {
				t.Errorf("%s%s: status %d, want 400", path, q, res.Code)
			}
		}
	}
}

func TestKeyListSortAndPages(t *testing.T) {
	tc := newTestConsole(t)
	for i := 0; i < keysPerPage+5; i++ {
		tc.createKey("k" + string(rune('a'+i/26)) + string(rune('a'+i%26)))
	}
	cl := tc.loggedIn("admin")
	res := cl.get("/keys?sort=name&dir=desc")
	d := res.doc()
	if first := d.Find(`[data-testid=key-name]`).First().Text(); first != "kcc" {
		t.Fatalf("first of descending = %q", first)
	}
	if d.Find(`th.col-name`).AttrOr("aria-sort", "") != "descending" {
		t.Fatal("aria-sort not descending")
	}
	next := d.Find(`[data-testid=next-page]`).AttrOr("href", "")
	if next == "" {
		t.Fatal("no next page link")
	}
	page2 := cl.get(next)
	if n := page2.doc().Find(`[data-testid=key-row]`).Length(); n != 5 {
		t.Fatalf("second page has %d rows", n)
	}
	if page2.doc().Find(`[data-testid=prev-page]`).Length() != 1 {
		t.Fatal("no previous page link")
	}
}

func TestCreateKeyShowsTheSecretOnce(t *testing.T) {
	tc := newTestConsole(t)
	cl := tc.loggedIn("manager")
	form := url.Values{"name": {"billing-prod"}, "permissions": {"chat", "securemail"}, "enabled": {"on"},
		"never_expires": {"on"}, "capacity": {"300"}, "frequency": {"60"}}
	res := cl.post("/keys", form)
	wantStatus(t, res, http.StatusCreated)
	if res.Header().Get("Cache-Control") != "no-store" {
		t.Fatal("the secret page may be cached")
	}
	secret := res.doc().Find(`[data-testid=secret]`).AttrOr("value", "")
	if !store.WellFormedSecret(secret) {
		t.Fatalf("secret %q", secret)
	}
	page, _ := tc.store.Keys(context.Background(), store.Scope{}, store.KeyQuery{Sort: store.SortName})
	k := page.Keys[0]
	if k.Name != "billing-prod" || k.Capacity != 300 || !k.Enabled || k.CreatedBy != "manager" || len(k.Permissions) != 2 {
		t.Fatalf("created %+v", k)
	}
	// The secret appears nowhere else.
	for _, path := range []string{"/keys", "/keys/" + k.ID, "/keys/export.csv"} {
		if strings.Contains(cl.get(path).Body.String(), secret) {
			t.Fatalf("%s shows the secret", path)
		}
	}
}

func TestCreateKeyKeepsTheFormOnError(t *testing.T) {
	tc := newTestConsole(t)
	tc.createKey("Taken")
	cl := tc.loggedIn("admin")
	cases := []struct {
		name  string
		form  url.Values
		field string
	}{
		{"empty name", url.Values{"name": {"  "}, "permissions": {"chat"}, "never_expires": {"on"}}, "name"},
		{"long name", url.Values{"name": {strings.Repeat("x", 101)}, "permissions": {"chat"}, "never_expires": {"on"}}, "name"},
		{"duplicate", url.Values{"name": {"taken"}, "permissions": {"chat"}, "never_expires": {"on"}}, "name"},
		{"no permission", url.Values{"name": {"fine"}, "never_expires": {"on"}}, "permissions"},
		{"unknown permission", url.Values{"name": {"fine"}, "permissions": {"voice"}, "never_expires": {"on"}}, "permissions"},
		{"past date", url.Values{"name": {"fine"}, "permissions": {"chat"}, "expires_at": {"2020-01-01"}}, "expires_at"},
		{"malformed date", url.Values{"name": {"fine"}, "permissions": {"chat"}, "expires_at": {"next tuesday"}}, "expires_at"},
		{"no date", url.Values{"name": {"fine"}, "permissions": {"chat"}}, "expires_at"},
		{"capacity", url.Values{"name": {"fine"}, "permissions": {"chat"}, "never_expires": {"on"}, "capacity": {"lots"}}, "capacity"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := tc.snapshot()
			res := cl.post("/keys", c.form)
			wantStatus(t, res, http.StatusUnprocessableEntity)
			d := res.doc()
			if msg := res.testid(c.field + "-error"); msg == "" {
				t.Fatalf("no message beside %s", c.field)
			}
			if got := d.Find(`[data-testid=name]`).AttrOr("value", ""); got != c.form.Get("name") {
				t.Fatalf("name field %q, typed %q", got, c.form.Get("name"))
			}
			if c.form.Get("expires_at") != "" && d.Find(`[data-testid=expires-at]`).AttrOr("value", "") != c.form.Get("expires_at") {
				t.Fatal("the typed date was lost")
			}
			if strings.Contains(res.Body.String(), "kd_") {
				t.Fatal("a secret was shown for a refused key")
			}
			if tc.snapshot() != before {
				t.Fatal("a refused key changed the database")
			}
		})
	}
}

func TestCopyKeyPrefillsTheForm(t *testing.T) {
	tc := newTestConsole(t)
	src := tc.createKey("APIKEYtest", func(k *store.NewKey) {
		k.Permissions = []string{"chat", "securemail"}
		k.Capacity, k.Frequency = 42, 30
		k.ExpiresAt = time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	})
	cl := tc.loggedIn("admin")
	res := cl.get("/keys/new?copy=" + src.ID)
	wantStatus(t, res, http.StatusOK)
	d := res.doc()
	if got := d.Find(`[data-testid=name]`).AttrOr("value", ""); got != "APIKEYtest_1" {
		t.Fatalf("copy name %q", got)
	}
	if d.Find(`[data-testid=perm-securemail]:checked, [data-testid=perm-securemail][checked]`).Length() != 1 ||
		d.Find(`[data-testid=capacity]`).AttrOr("value", "") != "42" ||
		d.Find(`[data-testid=expires-at]`).AttrOr("value", "") != "2027-03-01" {
		t.Fatal("the copy form is not prefilled from the key")
	}
	form := url.Values{"name": {"APIKEYtest_1"}, "permissions": {"chat", "securemail"}, "expires_at": {"2027-03-01"},
		"capacity": {"42"}, "frequency": {"30"}, "copy_of": {src.ID}}
	wantStatus(t, cl.post("/keys", form), http.StatusCreated)
	if got := cl.get("/keys/new?copy="+src.ID).doc().Find(`[data-testid=name]`).AttrOr("value", ""); got != "APIKEYtest_2" {
		t.Fatalf("second copy name %q", got)
	}
	wantStatus(t, cl.get("/keys/new?copy=nosuchkey0000000"), http.StatusNotFound)
	wantStatus(t, tc.loggedIn("viewer").get("/keys/new?copy="+src.ID), http.StatusForbidden)
}

func TestKeyDetails(t *testing.T) {
	tc := newTestConsole(t)
	k := tc.createKey("details-key")
	cl := tc.loggedIn("admin")
	res := cl.get("/keys/" + k.ID)
	wantStatus(t, res, http.StatusOK)
	if res.testid("key-title") != "details-key" || res.testid("key-id") != k.ID {
		t.Fatal("details do not show the key")
	}
	if !strings.Contains(res.testid("history"), "Created") {
		t.Fatalf("history %q", res.testid("history"))
	}
	wantStatus(t, cl.get("/keys/nosuchkey0000000"), http.StatusNotFound)

	// A viewer sees no actions.
	v := tc.loggedIn("viewer").get("/keys/" + k.ID)
	wantStatus(t, v, http.StatusOK)
	for _, id := range []string{"revoke", "delete", "expire-now", "copy-key", "enabled-switch", "expiry-form"} {
		if v.doc().Find(`[data-testid=`+id+`]`).Length() != 0 {
			t.Errorf("a viewer sees %s", id)
		}
	}
}

func TestKeyLifecycleRoutes(t *testing.T) {
	tc := newTestConsole(t)
	k := tc.createKey("life")
	cl := tc.loggedIn("admin")
	back := url.Values{"return": {"/keys?q=life"}}

	res := cl.post("/keys/"+k.ID+"/disable", back)
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header().Get("Location"); loc != "/keys?q=life" {
		t.Fatalf("Location %q", loc)
	}
	if msg := cl.get("/keys?q=life").testid("flash"); msg != "Key “life” disabled." {
		t.Fatalf("flash %q", msg)
	}
	// A return address off the site is ignored.
	res = cl.post("/keys/"+k.ID+"/enable", url.Values{"return": {"https://evil.example/"}})
	if loc := res.Header().Get("Location"); loc != "/keys/"+k.ID {
		t.Fatalf("Location %q", loc)
	}

	// The details form: a date, a malformed date, never.
	wantStatus(t, cl.post("/keys/"+k.ID+"/expire", url.Values{"expires_at": {"2027-01-02"}, "expiry_form": {"1"}}), http.StatusSeeOther)
	if got, _ := tc.store.Key(context.Background(), store.Scope{}, k.ID); !got.ExpiresAt.Equal(time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("expires %v", got.ExpiresAt)
	}
	bad := cl.post("/keys/"+k.ID+"/expire", url.Values{"expires_at": {"02/01/2027"}, "expiry_form": {"1"}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	if bad.testid("expires_at-error") == "" || bad.doc().Find(`[data-testid=expires-at]`).AttrOr("value", "") != "02/01/2027" {
		t.Fatal("the expiry error is not beside the field with the typed value")
	}
	wantStatus(t, cl.post("/keys/"+k.ID+"/expire", url.Values{"expires_at": {""}, "expiry_form": {"1"}}), http.StatusUnprocessableEntity)
	wantStatus(t, cl.post("/keys/"+k.ID+"/expire", url.Values{"expires_at": {""}}), http.StatusSeeOther) // empty = never
	if got, _ := tc.store.Key(context.Background(), store.Scope{}, k.ID); !got.ExpiresAt.IsZero() {
		t.Fatal("an empty expires_at did not mean never")
	}

	wantStatus(t, cl.post("/keys/"+k.ID+"/expire", url.Values{"now": {"1"}}), http.StatusSeeOther)
	conflict := cl.post("/keys/"+k.ID+"/revoke", nil)
	wantStatus(t, conflict, http.StatusConflict)
	if msg := conflict.testid("error-message"); !strings.Contains(msg, "only a usable key can be revoked") {
		t.Fatalf("message %q", msg)
	}

	k2 := tc.createKey("to-revoke")
	wantStatus(t, cl.post("/keys/"+k2.ID+"/revoke", nil), http.StatusSeeOther)
	before := tc.snapshot()
	for _, action := range []string{"revoke", "enable", "disable"} {
		wantStatus(t, cl.post("/keys/"+k2.ID+"/"+action, nil), http.StatusConflict)
	}
	if tc.snapshot() != before {
		t.Fatal("a refused action changed the database")
	}
	// htmx gets the message in the flash region.
	hx := cl.post("/keys/"+k2.ID+"/enable", nil, "HX-Request", "true")
	wantStatus(t, hx, http.StatusConflict)
	if hx.Header().Get("HX-Retarget") != "#flash" || !strings.Contains(hx.Body.String(), "revoked") {
		t.Fatal("htmx error not sent to the flash region")
	}

	res = cl.post("/keys/"+k2.ID+"/delete", url.Values{"return": {"/keys/" + k2.ID}})
	if loc := res.Header().Get("Location"); loc != "/keys" {
		t.Fatalf("after deleting from its page, Location %q", loc)
	}
	wantStatus(t, cl.post("/keys/"+k2.ID+"/delete", nil), http.StatusNotFound)

	// Rights: a viewer can do none of it.
	viewer := tc.loggedIn("viewer")
	before = tc.snapshot()
	for _, action := range []string{"enable", "disable", "expire", "revoke", "delete"} {
		wantStatus(t, viewer.post("/keys/"+k.ID+"/"+action, url.Values{"now": {"1"}}), http.StatusForbidden)
	}
	wantStatus(t, viewer.post("/keys", url.Values{"name": {"x"}, "permissions": {"chat"}, "never_expires": {"on"}}), http.StatusForbidden)
	wantStatus(t, viewer.post("/keys/bulk", url.Values{"action": {"delete"}, "id": {k.ID}}), http.StatusForbidden)
	if tc.snapshot() != before {
		t.Fatal("a viewer changed the database")
	}
}

func TestBulkActions(t *testing.T) {
	tc := newTestConsole(t)
	a := tc.createKey("bulk-a")
	b := tc.createKey("bulk-b")
	tc.createKey("bulk-c")
	tc.createKey("other")
	cl := tc.loggedIn("admin")

	res := cl.post("/keys/bulk", url.Values{"action": {"disable"}, "id": {a.ID, b.ID}, "return": {"/keys?q=bulk"}})
	wantStatus(t, res, http.StatusSeeOther)
	if msg := cl.get("/keys").testid("flash"); msg != "Disabled 2 keys." {
		t.Fatalf("flash %q", msg)
	}
	// All that match, with the count the user confirmed.
	before := tc.snapshot()
	res = cl.post("/keys/bulk", url.Values{"action": {"delete"}, "all": {"1"}, "q": {"bulk"}, "expected": {"4"}})
	wantStatus(t, res, http.StatusConflict)
	if tc.snapshot() != before {
		t.Fatal("a bulk delete with a stale count deleted")
	}
	wantStatus(t, cl.post("/keys/bulk", url.Values{"action": {"delete"}, "all": {"1"}, "q": {"bulk"}, "expected": {"3"}}), http.StatusSeeOther)
	page, _ := tc.store.Keys(context.Background(), store.Scope{}, store.KeyQuery{Sort: store.SortName})
	if page.Total != 1 || page.Keys[0].Name != "other" {
		t.Fatalf("left %d keys", page.Total)
	}
	for _, f := range []url.Values{
		{"action": {"explode"}, "id": {a.ID}},
		{"action": {"delete"}},
		{"action": {"delete"}, "all": {"1"}, "status": {"gone"}},
	} {
		if res := cl.post("/keys/bulk", f); res.Code < 400 || res.Code >= 500 {
			t.Errorf("%v: status %d", f, res.Code)
		}
	}
	// A key manager may delete; a viewer may not even disable.
	wantStatus(t, tc.loggedIn("viewer").post("/keys/bulk", url.Values{"action": {"disable"}, "all": {"1"}}), http.StatusForbidden)
}

func TestExportCSV(t *testing.T) {
	tc := newTestConsole(t)
	tc.createKey("=HYPERLINK(\"http://evil.example\")")
	tc.createKey("plain, with comma")
	tc.createKey("-minus", func(k *store.NewKey) { k.Permissions = []string{"chat", "securemail"} })
	tc.createKey("expired-one", func(k *store.NewKey) { k.ExpiresAt = tc.clock.now.Add(time.Hour) })
	tc.clock.now = tc.clock.now.Add(2 * time.Hour)
	cl := tc.loggedIn("viewer")

	res := cl.get("/keys/export.csv?status=available&sort=name&dir=desc")
	wantStatus(t, res, http.StatusOK)
	if ct := res.Header().Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	if cd := res.Header().Get("Content-Disposition"); cd != `attachment; filename="keydesk-keys-2026-11-23.csv"` {
		t.Fatalf("Content-Disposition %q", cd)
	}
	if !strings.Contains(res.Body.String(), "\r\n") {
		t.Fatal("rows do not end in CRLF")
	}
	rows, err := csv.NewReader(strings.NewReader(res.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "id,name,permissions,status,enabled,expires_at,created_at,created_by,last_used_at,key,organization,uses_24h" {
		t.Fatalf("header %v", rows[0])
	}
	var names []string
	for _, r := range rows[1:] {
		names = append(names, r[1])
	}
	want := "plain, with comma|'=HYPERLINK(\"http://evil.example\")|'-minus"
	if got := strings.Join(names, "|"); got != want {
		t.Fatalf("names %q\nwant  %q", got, want)
	}
	if rows[3][2] != "chat;securemail" || rows[1][3] != "available" || rows[1][7] != "admin" || !strings.Contains(rows[1][9], "…") || rows[1][10] != "Default" {
		t.Fatalf("row %v", rows[3])
	}
	// Every page: more keys than a page holds all come out.
	for i := 0; i < keysPerPage+10; i++ {
		tc.createKey("many-" + string(rune('a'+i/26)) + string(rune('a'+i%26)))
	}
	all, _ := csv.NewReader(strings.NewReader(cl.get("/keys/export.csv?q=many").Body.String())).ReadAll()
	if len(all) != keysPerPage+10+1 {
		t.Fatalf("%d rows for %d keys", len(all)-1, keysPerPage+10)
	}
}

func TestViewsEscapeNames(t *testing.T) {
	tc := newTestConsole(t)
	k := tc.createKey(`<script>alert(1)</script>`)
	cl := tc.loggedIn("admin")
	for _, path := range []string{"/keys", "/keys/" + k.ID, "/keys/new?copy=" + k.ID} {
		body := cl.get(path).Body.String()
		if strings.Contains(body, "<script>alert(1)") {
			t.Fatalf("%s renders the name unescaped", path)
		}
		if !strings.Contains(body, "&lt;script&gt;alert(1)") {
			t.Fatalf("%s does not show the name", path)
		}
	}
}

func TestEmptiedPageFallsBackToTheFirst(t *testing.T) {
	tc := newTestConsole(t)
	for i := 0; i < keysPerPage+3; i++ {
		tc.createKey("page-" + string(rune('a'+i/26)) + string(rune('a'+i%26)))
	}
	cl := tc.loggedIn("admin")
	next := cl.get("/keys").doc().Find(`[data-testid=next-page]`).AttrOr("href", "")
	var ids []string
	cl.get(next).doc().Find(`[data-testid=key-row]`).Each(func(_ int, s *goquery.Selection) {
		ids = append(ids, s.AttrOr("data-key-id", ""))
	})
	wantStatus(t, cl.post("/keys/bulk", url.Values{"action": {"delete"}, "id": ids, "return": {next}}), http.StatusSeeOther)
	res := cl.get(next)
	if n := res.doc().Find(`[data-testid=key-row]`).Length(); n != keysPerPage {
		t.Fatalf("the emptied page shows %d rows, want the first page", n)
	}
}

func TestCreatedKeyIsShownOnTheList(t *testing.T) {
	tc := newTestConsole(t)
	for i := 0; i < keysPerPage+5; i++ {
		tc.createKey("aa-" + string(rune('a'+i/26)) + string(rune('a'+i%26)))
	}
	cl := tc.loggedIn("admin")
	res := cl.post("/keys", url.Values{"name": {"zz-last"}, "permissions": {"chat"}, "never_expires": {"on"}})
	done := res.doc().Find(`[data-testid=done]`).AttrOr("href", "")
	list := cl.get(done)
	if got := strings.TrimSpace(list.doc().Find(`tr.highlight [data-testid=key-name]`).Text()); got != "zz-last" {
		t.Fatalf("highlighted %q on the list after Done", got)
	}
	if msg := list.testid("flash"); msg != "Key “zz-last” created." {
		t.Fatalf("flash %q", msg)
	}
}

func TestCopyOfAnExpiredKeySaysWhy(t *testing.T) {
	tc := newTestConsole(t)
	k := tc.createKey("old", func(n *store.NewKey) { n.ExpiresAt = tc.clock.now.Add(time.Hour) })
	tc.clock.now = tc.clock.now.Add(2 * time.Hour)
	res := tc.loggedIn("admin").get("/keys/new?copy=" + k.ID)
	if !strings.Contains(res.testid("expiry-note"), "starts out never expiring") {
		t.Fatalf("note %q", res.testid("expiry-note"))
	}
}

func TestBulkMessageWording(t *testing.T) {
	for _, c := range []struct {
		action store.KeyAction
		res    store.BulkResult
		want   string
	}{
		{store.KeyDisable, store.BulkResult{Changed: 3839}, "Disabled 3,839 keys."},
		{store.KeyRevoke, store.BulkResult{Changed: 2, Skipped: 1}, "Revoked 2 keys. 1 key was left alone: already revoked, or expired."},
		{store.KeyEnable, store.BulkResult{Changed: 1, Skipped: 1200}, "Enabled 1 key. 1,200 keys were left alone: already enabled, or revoked."},
	} {
		if got := bulkMessage(c.action, c.res); got != c.want {
			t.Errorf("bulkMessage = %q\nwant          %q", got, c.want)
		}
	}
}

// Duplicating a key is called so everywhere, apart from copying a secret to
// the clipboard.
func TestDuplicateIsNamedSo(t *testing.T) {
	tc := newTestConsole(t)
	src := tc.createKey("original")
	cl := tc.loggedIn("admin")
	if got := cl.get("/keys/" + src.ID).testid("copy-key"); got != "Duplicate" {
		t.Fatalf("the details page offers %q", got)
	}
	for path, want := range map[string]string{"/keys/new": "New API key", "/keys/new?copy=" + src.ID: "Duplicate API key"} {
		d := cl.get(path).doc()
		if crumb, h1 := d.Find(`[data-testid=breadcrumb-current]`).Text(), d.Find(`h1`).Text(); crumb != want || h1 != want ||
			!strings.HasPrefix(d.Find(`title`).Text(), want) {
			t.Errorf("%s: breadcrumb %q, heading %q, title %q; want %q", path, crumb, h1, d.Find(`title`).Text(), want)
		}
	}
	wantStatus(t, cl.post("/keys", url.Values{"name": {"original_1"}, "permissions": {"chat"}, "never_expires": {"on"}, "copy_of": {src.ID}}), http.StatusCreated)
	page, err := tc.store.Keys(t.Context(), store.Scope{}, store.KeyQuery{KeyFilter: store.KeyFilter{Search: "original_1"}, Sort: store.SortName})
	if err != nil || page.Total != 1 {
		t.Fatalf("the duplicate: %+v, %v", page, err)
	}
	k := page.Keys[0]
	if got := cl.get("/keys/" + k.ID).testid("history"); !strings.Contains(got, "Created as a duplicate of “original”") {
		t.Fatalf("history %q", got)
	}
}

// Created and Last changed say how long ago, with the exact time in the
// element's datetime and title.
func TestKeyDetailsTimesAreRelative(t *testing.T) {
	tc := newTestConsole(t)
	k := tc.createKey("aging")
	tc.clock.now = tc.clock.now.Add(3 * 24 * time.Hour)
	d := tc.loggedIn("admin").get("/keys/" + k.ID).doc()
	for _, id := range []string{"created", "updated"} {
		tm := d.Find(`[data-testid=` + id + `] time`)
		if tm.Length() != 1 || strings.TrimSpace(tm.Text()) != "3 days ago" ||
			tm.AttrOr("datetime", "") != k.CreatedAt.UTC().Format(time.RFC3339) ||
			tm.AttrOr("title", "") != k.CreatedAt.UTC().Format("2006-01-02 15:04 UTC") {
			html, _ := goquery.OuterHtml(d.Find(`[data-testid=` + id + `]`))
			t.Errorf("%s: %s", id, html)
		}
	}
}
