package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/keydesk/keydesk/store"
)

// routes lists every route with a request that would succeed for an
// administrator; the tests below use it to check what every route shares.
func everyRoute(tc *testConsole) []struct {
	method, path string
	form         url.Values
} {
	k := tc.createKey("route-key")
	return []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/", nil},
		{"GET", "/keys", nil},
		{"GET", "/keys/export.csv", nil},
		{"GET", "/keys/new", nil},
		{"GET", "/keys/" + k.ID, nil},
		{"POST", "/keys", url.Values{"name": {"new-one"}, "permissions": {"chat"}, "never_expires": {"on"}}},
		{"POST", "/keys/bulk", url.Values{"action": {"disable"}, "id": {k.ID}}},
		{"POST", "/keys/" + k.ID + "/disable", nil},
		{"POST", "/keys/" + k.ID + "/enable", nil},
		{"POST", "/keys/" + k.ID + "/expire", url.Values{"expires_at": {"2027-01-01"}}},
		{"POST", "/keys/" + k.ID + "/revoke", nil},
		{"POST", "/keys/" + k.ID + "/delete", nil},
		{"POST", "/logout", nil},
	}
}

func TestEveryRouteNeedsLogin(t *testing.T) {
	tc := newTestConsole(t)
	for _, r := range everyRoute(tc) {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			cl := tc.client()
			before := tc.snapshot()
			var res response
			if r.method == "GET" {
				res = cl.get(r.path)
			} else {
				res = cl.post(r.path, r.form)
			}
			wantStatus(t, res, http.StatusSeeOther)
			if loc := res.Header().Get("Location"); !strings.HasPrefix(loc, "/login") {
				t.Fatalf("Location %q, want the login page", loc)
			}
			if tc.snapshot() != before {
				t.Fatal("a request without a session changed the database")
			}
		})
	}
}

func TestEveryPostNeedsTheCSRFToken(t *testing.T) {
	tc := newTestConsole(t)
	cl := tc.loggedIn("admin")
	for _, r := range everyRoute(tc) {
		if r.method != "POST" {
			continue
		}
		t.Run(r.path, func(t *testing.T) {
			before := tc.snapshot()
			wantStatus(t, cl.postRaw(r.path, r.form), http.StatusForbidden)
			bad := cloneValues(r.form)
			bad.Set("_csrf", "forged-token")
			wantStatus(t, cl.postRaw(r.path, bad), http.StatusForbidden)
			// A real browser says the request is same-origin; the token is
			// still required.
			wantStatus(t, cl.postRaw(r.path, r.form, "Sec-Fetch-Site", "same-origin"), http.StatusForbidden)
			if tc.snapshot() != before {
				t.Fatal("a request without a valid token changed the database")
			}
		})
	}
	// The login form is protected too.
	wantStatus(t, tc.client().postRaw("/login", url.Values{"username": {"admin"}, "password": {testPassword}}), http.StatusForbidden)
}

func TestCSRFTokenInHeader(t *testing.T) {
	tc := newTestConsole(t)
	k := tc.createKey("by-header")
	cl := tc.loggedIn("admin")
	res := cl.postRaw("/keys/"+k.ID+"/disable", url.Values{}, "X-CSRF-Token", cl.csrf(), "HX-Request", "true")
	wantStatus(t, res, http.StatusOK)
	if !strings.Contains(res.Body.String(), `aria-checked="false"`) {
		t.Fatalf("the row answer does not show the key off:\n%s", res.Body)
	}
}

func TestCrossSiteFormsAreRefused(t *testing.T) {
	tc := newTestConsole(t)
	k := tc.createKey("cross")
	cl := tc.loggedIn("admin")
	res := cl.post("/keys/"+k.ID+"/revoke", nil, "Sec-Fetch-Site", "cross-site")
	wantStatus(t, res, http.StatusForbidden)
	if got, _ := tc.store.Key(t.Context(), store.Scope{}, k.ID); got.Revoked() {
		t.Fatal("a cross-site post revoked the key")
	}
}

func TestLoginAndLogout(t *testing.T) {
	tc := newTestConsole(t)
	cl := tc.client()

	// Going to a page first comes back to it after login.
	res := cl.get("/keys?q=abc")
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header().Get("Location"); loc != "/login?next="+url.QueryEscape("/keys?q=abc") {
		t.Fatalf("Location %q", loc)
	}
	page := cl.get("/login?next=" + url.QueryEscape("/keys?q=abc"))
	wantStatus(t, page, http.StatusOK)
	if token, ok := unmaskToken(page.doc().Find(`meta[name="csrf-token"]`).AttrOr("content", "")); !ok || token != cl.csrf() {
		t.Fatal("the meta tag does not carry the CSRF token")
	}
	if page.doc().Find(`input[name="_csrf"]`).Length() == 0 {
		t.Fatal("the login form has no _csrf field")
	}

	bad := cl.post("/login", url.Values{"username": {"admin"}, "password": {"wrong password here"}, "next": {"/keys?q=abc"}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	if msg := bad.testid("login-error"); msg != "The username or password is not right." {
		t.Fatalf("error %q", msg)
	}
	if bad.doc().Find(`[data-testid=username]`).AttrOr("value", "") != "admin" {
		t.Fatal("the username typed was lost")
	}
	unknown := cl.post("/login", url.Values{"username": {"nobody"}, "password": {"wrong password here"}})
	if unknown.testid("login-error") != bad.testid("login-error") {
		t.Fatal("an unknown user gets a different message")
	}

	ok := cl.post("/login", url.Values{"username": {"admin"}, "password": {testPassword}, "next": {"/keys?q=abc"}})
	wantStatus(t, ok, http.StatusSeeOther)
	if loc := ok.Header().Get("Location"); loc != "/keys?q=abc" {
		t.Fatalf("after login, Location %q", loc)
	}
	for _, ck := range ok.Result().Cookies() {
		if ck.Name == sessionName && (!ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure) {
			t.Fatalf("session cookie %+v", ck)
		}
	}
	wantStatus(t, cl.get("/keys"), http.StatusOK)

	// Another browser of the same user is logged out by this logout too.
	other := tc.loggedIn("admin")
	wantStatus(t, cl.post("/logout", nil), http.StatusSeeOther)
	wantStatus(t, cl.get("/keys"), http.StatusSeeOther)
	wantStatus(t, other.get("/keys"), http.StatusSeeOther)
}

func TestLoginRefusesForeignNext(t *testing.T) {
	tc := newTestConsole(t)
	for _, next := range []string{"https://evil.example/", "//evil.example/x", `/\evil.example`, "javascript:alert(1)"} {
		res := tc.client().post("/login", url.Values{"username": {"admin"}, "password": {testPassword}, "next": {next}})
		if loc := res.Header().Get("Location"); loc != "/" {
			t.Errorf("next %q: Location %q, want /", next, loc)
		}
	}
}

func TestSessionTimeouts(t *testing.T) {
	tc := newTestConsole(t)
	cl := tc.loggedIn("admin")
	// Active use keeps the session alive past the idle timeout...
	for i := 0; i < 4; i++ {
		tc.clock.now = tc.clock.now.Add(20 * time.Minute)
		wantStatus(t, cl.get("/keys"), http.StatusOK)
	}
	// ...but not 31 idle minutes,
	tc.clock.now = tc.clock.now.Add(31 * time.Minute)
	res := cl.get("/keys/new")
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header().Get("Location"); loc != "/login?next=%2Fkeys%2Fnew" {
		t.Fatalf("Location %q", loc)
	}
	login := cl.get(res.Header().Get("Location"))
	if msg := login.testid("flash"); !strings.Contains(msg, "session has ended") {
		t.Fatalf("flash %q", msg)
	}
	// and never past the absolute timeout.
	cl = tc.loggedIn("admin")
	for i := 0; i < 12*3+1; i++ {
		tc.clock.now = tc.clock.now.Add(20 * time.Minute)
		if res := cl.get("/keys"); res.Code != http.StatusOK {
			if i < 12*3-1 {
				t.Fatalf("logged out after %d minutes", (i+1)*20)
			}
			return
		}
	}
	t.Fatal("the session outlived the absolute timeout")
}

func TestHTMXRequestWithoutSessionRedirectsTheWholePage(t *testing.T) {
	tc := newTestConsole(t)
	req := tc.client()
	res := req.get("/keys?q=x", "HX-Request", "true", "HX-Current-URL", "http://keydesk.test/keys?q=x&sort=created")
	wantStatus(t, res, http.StatusUnauthorized)
	if got := res.Header().Get("HX-Redirect"); got != "/login?next="+url.QueryEscape("/keys?q=x&sort=created") {
		t.Fatalf("HX-Redirect %q", got)
	}
}

func TestSecurityHeaders(t *testing.T) {
	tc := newTestConsole(t)
	cl := tc.loggedIn("admin")
	for _, path := range []string{"/login", "/keys", "/healthz", "/static/app.css", "/nowhere"} {
		res := cl.get(path)
		h := res.Header()
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: headers %v", path, h)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS without TLS", path)
		}
	}
}

func TestTLSMarksCookiesSecureAndSendsHSTS(t *testing.T) {
	tc := newTestConsole(t)
	e, err := New(t.Context(), tc.store, Config{Logger: discardLogger(), TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://keydesk.test/login", nil))
	var token *http.Cookie
	for _, ck := range rec.Result().Cookies() {
		if !ck.Secure {
			t.Errorf("cookie %s is not Secure over TLS", ck.Name)
		}
		if ck.Name == "keydesk_csrf" {
			token = ck
		}
	}
	if token == nil || !strings.Contains(rec.Header().Get("Strict-Transport-Security"), "max-age=") {
		t.Fatal("no CSRF cookie, or no HSTS over TLS")
	}
	form := url.Values{"username": {"admin"}, "password": {testPassword}, "_csrf": {token.Value}}
	req := httptest.NewRequest(http.MethodPost, "https://keydesk.test/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(token)
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login over TLS: %d", rec.Code)
	}
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == sessionName && !ck.Secure {
			t.Error("the session cookie is not Secure over TLS")
		}
	}
}

func TestBodyLimit(t *testing.T) {
	tc := newTestConsole(t)
	cl := tc.loggedIn("admin")
	res := cl.post("/keys", url.Values{"name": {strings.Repeat("x", 2<<20)}})
	wantStatus(t, res, http.StatusRequestEntityTooLarge)
}

func TestCSRFTokenRenewsAtLoginAndLogout(t *testing.T) {
	tc := newTestConsole(t)
	cl := tc.client()
	first := cl.csrf()
	cl.post("/login", url.Values{"username": {"admin"}, "password": {testPassword}})
	second := cookieValue(cl, "keydesk_csrf")
	cl.post("/logout", nil)
	third := cookieValue(cl, "keydesk_csrf")
	if first == second || second == third || first == third {
		t.Fatalf("tokens %q, %q, %q: want a new one at login and at logout", first, second, third)
	}
	// The new token works, the old one no longer does.
	wantStatus(t, cl.postRaw("/login", url.Values{"username": {"admin"}, "password": {testPassword}, "_csrf": {first}}), http.StatusForbidden)
	wantStatus(t, cl.post("/login", url.Values{"username": {"admin"}, "password": {testPassword}}), http.StatusSeeOther)
}

func TestFirstPasswordReminder(t *testing.T) {
	tc := newBareConsole(t)
	password, _, err := tc.store.CreateFirstAdmin(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	cl := tc.client()
	wantStatus(t, cl.post("/login", url.Values{"username": {"admin"}, "password": {password}}), http.StatusSeeOther)
	d := cl.get("/profile").doc()
	flash := d.Find(`[data-testid=flash]`)
	if !strings.Contains(flash.Text(), "generated and printed") || !flash.HasClass("flash-warning") || flash.HasClass("flash-error") {
		html, _ := goquery.OuterHtml(flash)
		t.Fatalf("the reminder is not a warning: %s", html)
	}
	if href := flash.Find(`a[data-testid=flash-link]`).AttrOr("href", ""); href != "/profile" {
		t.Fatalf("the reminder links to %q, want /profile", href)
	}
	wantStatus(t, cl.post("/profile/password", url.Values{"current": {password}, "password": {"a chosen password"}, "confirm": {"a chosen password"}}), http.StatusSeeOther)
	cl2 := tc.client()
	wantStatus(t, cl2.post("/login", url.Values{"username": {"admin"}, "password": {"a chosen password"}}), http.StatusSeeOther)
	page := cl2.get("/profile")
	wantStatus(t, page, http.StatusOK)
	if msg := page.testid("flash"); strings.Contains(msg, "printed") {
		t.Fatal("the reminder stays after the password was changed")
	}
}

// A password given through KEYDESK_ADMIN_PASSWORD was never printed.
func TestNoReminderForAGivenFirstPassword(t *testing.T) {
	tc := newBareConsole(t)
	if _, _, err := tc.store.CreateFirstAdmin(t.Context(), "first-password-here"); err != nil {
		t.Fatal(err)
	}
	cl := tc.client()
	wantStatus(t, cl.post("/login", url.Values{"username": {"admin"}, "password": {"first-password-here"}}), http.StatusSeeOther)
	if msg := cl.get("/profile").testid("flash"); msg != "" {
		t.Fatalf("flash %q after logging in with a given password", msg)
	}
}
