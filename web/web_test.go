package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/internal/pgtest"
	"github.com/keydesk/keydesk/store"
)

const testPassword = "correct-horse-battery-staple"

// testClock is the one clock of a test console: store and web read it.
type testClock struct{ now time.Time }

func (c *testClock) Now() time.Time { return c.now }

// testConsole is the real console over a real store in a temp dir,
// reached through ServeHTTP.
type testConsole struct {
	t *testing.T
	// h is the console as the tests call it: its answers under /api/ held
	// to the OpenAPI document.
	h     http.Handler
	echo  *echo.Echo
	store *store.Store
	clock *testClock
}

func newTestConsole(t *testing.T) *testConsole {
	t.Helper()
	tc := newBareConsole(t)
	for _, u := range []struct {
		name string
		role int64
	}{{"admin", store.RoleAdministrator}, {"viewer", store.RoleViewer}, {"manager", store.RoleKeyManager}} {
		if _, err := tc.store.CreateUser(context.Background(), store.SystemActor("test"), store.NewUser{Username: u.name, Password: testPassword, RoleID: u.role}); err != nil {
			t.Fatal(err)
		}
	}
	return tc
}

// newBareConsole is a test console with no users yet.
func newBareConsole(t *testing.T) *testConsole {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// As serve does: a master key, made when a secret is first kept.
	st.SetMasterKey(func() (*store.MasterKey, error) { return store.ParseMasterKey(store.GenerateMasterKey()) })
	clock := &testClock{now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	st.Now = clock.Now
	e, err := New(ctx, st, Config{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return &testConsole{t: t, h: conformingTo(t, e), echo: e, store: st, clock: clock}
}

// client is one browser: it keeps cookies and knows its CSRF token.
type client struct {
	c   *testConsole
	jar *cookiejar.Jar
}

var base, _ = url.Parse("http://keydesk.test/")

func (tc *testConsole) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{c: tc, jar: jar}
}

// loggedIn returns a client logged in as username.
func (tc *testConsole) loggedIn(username string) *client {
	cl := tc.client()
	res := cl.post("/login", url.Values{"username": {username}, "password": {testPassword}})
	if res.Code != http.StatusSeeOther {
		tc.t.Fatalf("login as %s: status %d\n%s", username, res.Code, res.Body)
	}
	return cl
}

type response struct {
	*httptest.ResponseRecorder
	t *testing.T
}

// doc parses the body as HTML.
func (r response) doc() *goquery.Document {
	r.t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(r.Body.String()))
	if err != nil {
		r.t.Fatal(err)
	}
	return d
}

// find returns the text of the elements with a data-testid.
func (r response) testid(id string) string {
	return strings.TrimSpace(r.doc().Find(`[data-testid="` + id + `"]`).Text())
}

func (cl *client) do(req *http.Request) response {
	cl.c.t.Helper()
	for _, ck := range cl.jar.Cookies(base) {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	cl.c.h.ServeHTTP(rec, req)
	cl.jar.SetCookies(base, rec.Result().Cookies())
	return response{rec, cl.c.t}
}

func (cl *client) get(path string, headers ...string) response {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return cl.do(req)
}

// htmx asks for a fragment, as htmx does.
func (cl *client) htmx(path string) response {
	return cl.get(path, "HX-Request", "true")
}

// csrf returns the client's CSRF token, fetching a page to get one.
func (cl *client) csrf() string {
	for _, ck := range cl.jar.Cookies(base) {
		if ck.Name == "keydesk_csrf" {
			return ck.Value
		}
	}
	cl.get("/login")
	for _, ck := range cl.jar.Cookies(base) {
		if ck.Name == "keydesk_csrf" {
			return ck.Value
		}
	}
	cl.c.t.Fatal("no CSRF cookie")
	return ""
}

// post sends a form with the CSRF token.
func (cl *client) post(path string, form url.Values, headers ...string) response {
	form = cloneValues(form)
	form.Set("_csrf", cl.csrf())
	return cl.postRaw(path, form, headers...)
}

// postRaw sends a form as it is, without adding a token.
func (cl *client) postRaw(path string, form url.Values, headers ...string) response {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return cl.do(req)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func wantStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.Code != want {
		body := r.Body.String()
		if len(body) > 2000 {
			body = body[:2000]
		}
		t.Fatalf("status %d, want %d\n%s", r.Code, want, body)
	}
}

// createKey makes a key through the store, as admin.
func (tc *testConsole) createKey(name string, mods ...func(*store.NewKey)) store.Key {
	tc.t.Helper()
	in := store.NewKey{Name: name, Permissions: []string{"chat"}, Enabled: true, Capacity: 120, Frequency: 60}
	for _, m := range mods {
		m(&in)
	}
	k, _, err := tc.store.CreateKey(context.Background(), store.Actor{Username: "admin"}, in)
	if err != nil {
		tc.t.Fatal(err)
	}
	return k
}

// snapshot summarises the database, to prove a refused request changed nothing.
func (tc *testConsole) snapshot() string {
	tc.t.Helper()
	var b strings.Builder
	ctx := context.Background()
	_, err := tc.store.EachKey(ctx, store.Scope{}, store.KeyFilter{}, store.SortName, false, func(k store.Key) error {
		fmt.Fprintf(&b, "%s %s %v %v %v %v\n", k.ID, k.Name, k.Enabled, k.UpdatedAt, k.ExpiresAt, k.RevokedAt)
		return nil
	})
	if err != nil {
		tc.t.Fatal(err)
	}
	users, err := tc.store.Users(ctx, store.Scope{}, "")
	if err != nil {
		tc.t.Fatal(err)
	}
	for _, u := range users {
		fmt.Fprintf(&b, "%s %d %v %v\n", u.Username, u.RoleID, u.DisabledAt, u.UpdatedAt)
	}
	roles, err := tc.store.Roles(ctx, store.Scope{})
	if err != nil {
		tc.t.Fatal(err)
	}
	for _, r := range roles {
		fmt.Fprintf(&b, "%s %v\n", r.Name, r.Rights)
	}
	// Refusals are recorded, and nothing else may change: count the rest.
	n, err := tc.store.CountEvents(ctx)
	if err != nil {
		tc.t.Fatal(err)
	}
	denied, err := tc.store.EachEvent(ctx, store.Scope{}, store.EventFilter{Action: store.ActionAccessDenied}, func(store.Event) error { return nil })
	if err != nil {
		tc.t.Fatal(err)
	}
	fmt.Fprintf(&b, "%d events", n-denied)
	return b.String()
}

// deniedEvents counts the refusals that the audit log recorded: repeats
// within a minute share one access.denied event, which counts them.
func (tc *testConsole) deniedEvents() int {
	tc.t.Helper()
	n := 0
	_, err := tc.store.EachEvent(context.Background(), store.Scope{}, store.EventFilter{Action: store.ActionAccessDenied}, func(e store.Event) error {
		count, ok := e.Details["count"].(float64)
		if !ok {
			tc.t.Fatalf("access.denied event without a count: %v", e.Details)
		}
		n += int(count)
		return nil
	})
	if err != nil {
		tc.t.Fatal(err)
	}
	return n
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
