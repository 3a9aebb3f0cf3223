package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
)

// route is one request of the console, with the rights it needs. make
// builds a fresh request each time, creating what it acts on, so that one
// role's success does not change what the next role meets.
type route struct {
	name   string
	rights []store.Right
	ok     int // the status when the rights are there
	make   func(tc *testConsole) (method, path string, form url.Values)
}

// anyOfRights names the routes that any one of their rights opens, rather
// than all of them.
var anyOfRights = map[string]bool{"organizations": true, "organization": true, "make own token": true}

var fixtureN atomic.Int64

func fresh(prefix string) string { return fmt.Sprintf("%s-%d", prefix, fixtureN.Add(1)) }

func (tc *testConsole) freshKey() store.Key { return tc.createKey(fresh("key")) }

func (tc *testConsole) freshUser() store.User {
	tc.t.Helper()
	u, err := tc.store.CreateUser(context.Background(), store.SystemActor("test"),
		store.NewUser{Username: fresh("user"), Password: testPassword, RoleID: store.RoleViewer})
	if err != nil {
		tc.t.Fatal(err)
	}
	return u
}

func (tc *testConsole) freshRole() store.Role {
	tc.t.Helper()
	r, err := tc.store.CreateRole(context.Background(), store.SystemActor("test"), store.RoleInput{Name: fresh("role"), Rights: []store.Right{store.RightAudit}})
	if err != nil {
		tc.t.Fatal(err)
	}
	return r
}

var (
	keysRead   = []store.Right{store.RightKeysView, store.RightKeysRead}
	keysCreate = append(keysRead[:2:2], store.RightKeysCreate)
	keysUpdate = append(keysRead[:2:2], store.RightKeysUpdate)
	keysDelete = append(keysRead[:2:2], store.RightKeysDelete)
	keysReveal = append(keysRead[:2:2], store.RightKeysReveal)
	usersOnly  = []store.Right{store.RightUsers}
)

func routeTable() []route {
	get := func(path string) func(*testConsole) (string, string, url.Values) {
		return func(*testConsole) (string, string, url.Values) { return "GET", path, nil }
	}
	keyPost := func(action string, form url.Values) func(*testConsole) (string, string, url.Values) {
		return func(tc *testConsole) (string, string, url.Values) {
			return "POST", "/keys/" + tc.freshKey().ID + "/" + action, form
		}
	}
	userPost := func(action string, form url.Values) func(*testConsole) (string, string, url.Values) {
		return func(tc *testConsole) (string, string, url.Values) {
			return "POST", "/users/" + itoa64(tc.freshUser().ID) + "/" + action, form
		}
	}
	return []route{
		{"profile", nil, 200, get("/profile")},
		{"change own password", nil, 422, func(*testConsole) (string, string, url.Values) {
			return "POST", "/profile/password", url.Values{"current": {"not it at all"}, "password": {"another long password"}, "confirm": {"another long password"}}
		}},
		{"own notices", nil, 303, func(*testConsole) (string, string, url.Values) {
			return "POST", "/profile/notices", url.Values{"email": {fresh("u") + "@example.com"}}
		}},
		// In this order: each user ends the calendar address they just got.
		{"own calendar", nil, 201, func(*testConsole) (string, string, url.Values) { return "POST", "/profile/calendar", nil }},
		{"end own calendar", nil, 303, func(*testConsole) (string, string, url.Values) { return "POST", "/profile/calendar/delete", nil }},
		{"make own token", store.AllRights(), 201, func(*testConsole) (string, string, url.Values) {
			return "POST", "/profile/tokens", url.Values{"name": {fresh("t")}, "rights": {"apikeys.view"}, "expires_at": {"2027-01-31"}}
		}},
		{"revoke a user's token", usersOnly, 303, func(tc *testConsole) (string, string, url.Values) {
			u := tc.freshUser()
			tok, _, err := tc.store.CreateToken(context.Background(), store.SystemActor("test"), u.ID,
				store.NewToken{Name: "t", Rights: []store.Right{store.RightKeysView}, ExpiresAt: tc.clock.now.Add(24 * time.Hour)})
			if err != nil {
				tc.t.Fatal(err)
			}
			return "POST", "/users/" + itoa64(u.ID) + "/tokens/" + tok.ID + "/revoke", nil
		}},
		// Someone else's token does not exist on one's profile.
		{"revoke another's token on one's profile", nil, 404, func(tc *testConsole) (string, string, url.Values) {
			u := tc.freshUser()
			tok, _, err := tc.store.CreateToken(context.Background(), store.SystemActor("test"), u.ID,
				store.NewToken{Name: "t", Rights: []store.Right{store.RightKeysView}, ExpiresAt: tc.clock.now.Add(24 * time.Hour)})
			if err != nil {
				tc.t.Fatal(err)
			}
			return "POST", "/profile/tokens/" + tok.ID + "/revoke", nil
		}},
		{"key list", keysRead, 200, get("/keys")},
		{"key list fragment", keysRead, 200, get("/keys?q=x")},
		{"export", keysRead, 200, get("/keys/export.csv")},
		{"key details", keysRead, 200, func(tc *testConsole) (string, string, url.Values) { return "GET", "/keys/" + tc.freshKey().ID, nil }},
		{"new key form", keysCreate, 200, get("/keys/new")},
		{"copy form", keysCreate, 200, func(tc *testConsole) (string, string, url.Values) {
			return "GET", "/keys/new?copy=" + tc.freshKey().ID, nil
		}},
		{"create key", keysCreate, 201, func(*testConsole) (string, string, url.Values) {
			return "POST", "/keys", url.Values{"name": {fresh("made")}, "permissions": {"chat"}, "never_expires": {"on"}}
		}},
		{"disable key", keysUpdate, 303, keyPost("disable", nil)},
		{"enable key", keysUpdate, 303, keyPost("enable", nil)},
		{"expire key", keysUpdate, 303, keyPost("expire", url.Values{"now": {"1"}})},
		{"set expiry", keysUpdate, 303, keyPost("expire", url.Values{"expires_at": {"2030-01-01"}})},
		{"revoke key", keysUpdate, 303, keyPost("revoke", nil)},
		{"rename key", keysUpdate, 303, func(tc *testConsole) (string, string, url.Values) {
			return "POST", "/keys/" + tc.freshKey().ID + "/rename", url.Values{"name": {fresh("renamed")}}
		}},
		{"delete key", keysDelete, 303, keyPost("delete", nil)},
		{"bulk disable", keysUpdate, 303, func(tc *testConsole) (string, string, url.Values) {
			return "POST", "/keys/bulk", url.Values{"action": {"disable"}, "id": {tc.freshKey().ID}}
		}},
		{"bulk delete", keysDelete, 303, func(tc *testConsole) (string, string, url.Values) {
			return "POST", "/keys/bulk", url.Values{"action": {"delete"}, "id": {tc.freshKey().ID}}
		}},
		{"test key form", keysRead, 200, get("/keys/test")},
		{"activity", keysRead, 200, get("/activity?period=7d")},
		{"activity export", keysRead, 200, get("/activity.csv?period=30d")},
		{"test key", keysRead, 200, func(*testConsole) (string, string, url.Values) {
			return "POST", "/keys/test", url.Values{"key": {store.NewSecret()}}
		}},
		{"set rate limit", keysUpdate, 303, keyPost("rate-limit", url.Values{"capacity": {"10"}, "frequency": {"60"}})},
		{"rotate key", keysUpdate, 201, keyPost("rotate", url.Values{"grace_days": {"3"}})},
		{"end grace", keysUpdate, 303, keyPost("end-grace", nil)},
		{"set schedule", keysUpdate, 303, keyPost("schedule", url.Values{"rotate_every_days": {"90"}})},
		{"reveal key", keysReveal, 200, func(tc *testConsole) (string, string, url.Values) {
			o := tc.newOrg(fresh("vault"), "")
			if _, err := tc.store.SetOrgPolicy(context.Background(), store.SystemActor("test"), o.ID, store.Policy{APIKeysEnabled: true, RecoverableKeys: true}); err != nil {
				tc.t.Fatal(err)
			}
			k := tc.createKey(fresh("kept"), func(in *store.NewKey) { in.Org = o.ID })
			return "POST", "/keys/" + k.ID + "/reveal", url.Values{"password": {testPassword}}
		}},
		{"users", usersOnly, 200, get("/users")},
		{"new user form", usersOnly, 200, get("/users/new")},
		{"create user", usersOnly, 303, func(*testConsole) (string, string, url.Values) {
			return "POST", "/users", url.Values{"username": {fresh("new")}, "role": {"3"}, "password": {testPassword}, "confirm": {testPassword}}
		}},
		{"user page", usersOnly, 200, func(tc *testConsole) (string, string, url.Values) {
			return "GET", "/users/" + itoa64(tc.freshUser().ID), nil
		}},
		{"change role", usersOnly, 303, userPost("role", url.Values{"role": {"2"}})},
		{"reset password", usersOnly, 303, userPost("password", url.Values{"password": {"a reset password", ""}, "confirm": {"a reset password"}})},
		{"disable user", usersOnly, 303, userPost("disable", nil)},
		{"enable user", usersOnly, 303, userPost("enable", nil)},
		{"delete user", usersOnly, 303, userPost("delete", nil)},
		{"roles", usersOnly, 200, get("/roles")},
		{"new role form", usersOnly, 200, get("/roles/new")},
		{"create role", usersOnly, 303, func(*testConsole) (string, string, url.Values) {
			return "POST", "/roles", url.Values{"name": {fresh("made-role")}, "rights": {"audit.view"}}
		}},
		{"role page", usersOnly, 200, func(tc *testConsole) (string, string, url.Values) {
			return "GET", "/roles/" + itoa64(tc.freshRole().ID), nil
		}},
		{"update role", usersOnly, 303, func(tc *testConsole) (string, string, url.Values) {
			return "POST", "/roles/" + itoa64(tc.freshRole().ID), url.Values{"name": {fresh("renamed")}, "rights": {"apikeys.view"}}
		}},
		{"delete role", usersOnly, 303, func(tc *testConsole) (string, string, url.Values) {
			return "POST", "/roles/" + itoa64(tc.freshRole().ID) + "/delete", nil
		}},
		{"events", []store.Right{store.RightAudit}, 200, get("/events")},
		{"events search", []store.Right{store.RightAudit}, 200, get("/events?q=admin&action=login.succeeded")},
		{"events export", []store.Right{store.RightAudit}, 200, get("/events/export.csv")},
		{"settings", []store.Right{store.RightSettings}, 200, get("/settings")},
		{"add permission", []store.Right{store.RightSettings}, 303, func(*testConsole) (string, string, url.Values) {
			return "POST", "/settings/permissions", url.Values{"name": {fresh("perm")}, "description": {"For tests."}}
		}},
		{"delete permission", []store.Right{store.RightSettings}, 303, func(tc *testConsole) (string, string, url.Values) {
			name := fresh("gone")
			if _, err := tc.store.CreatePermission(context.Background(), store.SystemActor("test"), store.Permission{Name: name, Description: "x"}); err != nil {
				tc.t.Fatal(err)
			}
			return "POST", "/settings/permissions/" + name + "/delete", nil
		}},
		{"save settings", []store.Right{store.RightSettings}, 303, func(*testConsole) (string, string, url.Values) {
			return "POST", "/settings", url.Values{"retention_days": {strconv.Itoa(int(fixtureN.Add(1)))}}
		}},
		{"webhooks", settingsOnly, 200, get("/webhooks")},
		{"create webhook", settingsOnly, 201, func(*testConsole) (string, string, url.Values) {
			return "POST", "/webhooks", url.Values{"url": {"https://hooks.example.com/" + fresh("h")}, "events": {store.NoticeExpiring}}
		}},
		{"webhook page", settingsOnly, 200, func(tc *testConsole) (string, string, url.Values) {
			return "GET", "/webhooks/" + tc.freshWebhook().ID, nil
		}},
		{"send test event", settingsOnly, 303, func(tc *testConsole) (string, string, url.Values) {
			return "POST", "/webhooks/" + tc.freshWebhook().ID + "/test", nil
		}},
		{"send delivery again", settingsOnly, 303, func(tc *testConsole) (string, string, url.Values) {
			w := tc.freshWebhook()
			msg, err := tc.store.QueueTestEvent(context.Background(), store.SystemActor("test"), w.ID)
			if err != nil {
				tc.t.Fatal(err)
			}
			return "POST", "/webhooks/" + w.ID + "/deliveries/" + msg + "/send", nil
		}},
		{"delete webhook", settingsOnly, 303, func(tc *testConsole) (string, string, url.Values) {
			return "POST", "/webhooks/" + tc.freshWebhook().ID + "/delete", nil
		}},
		{"home", nil, 303, get("/")},
		{"move user", usersOnly, 303, func(tc *testConsole) (string, string, url.Values) {
			return "POST", "/users/" + itoa64(tc.freshUser().ID) + "/org", url.Values{"org": {tc.freshOrg().ID}}
		}},
		{"organizations", orgsOrSettings, 200, get("/orgs")},
		{"organization", orgsOrSettings, 200, func(tc *testConsole) (string, string, url.Values) {
			return "GET", "/orgs/" + tc.freshOrg().ID, nil
		}},
		{"create organization", []store.Right{store.RightOrgs}, 303, func(*testConsole) (string, string, url.Values) {
			return "POST", "/orgs", url.Values{"name": {fresh("org")}}
		}},
		{"rename organization", []store.Right{store.RightOrgs}, 303, func(tc *testConsole) (string, string, url.Values) {
			return "POST", "/orgs/" + tc.freshOrg().ID, url.Values{"name": {fresh("renamed-org")}}
		}},
		{"organization policy", []store.Right{store.RightSettings}, 303, func(tc *testConsole) (string, string, url.Values) {
			return "POST", "/orgs/" + tc.freshOrg().ID + "/policy", url.Values{"api_keys_enabled": {"on"}, "max_keys_per_user": {"5"}}
		}},
		{"delete organization", []store.Right{store.RightOrgs}, 303, func(tc *testConsole) (string, string, url.Values) {
			return "POST", "/orgs/" + tc.freshOrg().ID + "/delete", nil
		}},
	}
}

var (
	orgsOrSettings = []store.Right{store.RightOrgs, store.RightSettings}
	settingsOnly   = []store.Right{store.RightSettings}
)

func (tc *testConsole) freshWebhook() store.Webhook {
	tc.t.Helper()
	w, _, err := tc.store.CreateWebhook(context.Background(), store.SystemActor("test"), store.NewWebhook{
		URL: "https://hooks.example.com/" + fresh("hook"), Events: []string{store.ActionKeyCreated}})
	if err != nil {
		tc.t.Fatal(err)
	}
	return w
}

func (tc *testConsole) freshOrg() store.Org {
	tc.t.Helper()
	o, err := tc.store.CreateOrg(context.Background(), store.SystemActor("test"), fresh("org"), "")
	if err != nil {
		tc.t.Fatal(err)
	}
	return o
}

// publicRoutes need no right: they are open, or open to anyone logged in.
var publicRoutes = []string{
	"GET /healthz", "GET /readyz", "GET /static/*", "GET /login", "POST /login",
	"POST /api/v1/keys/verify", "GET /api/v1/status", "GET /api/v1/openapi.json", "POST /logout",
	"GET /calendar/:file", // its token is its credential
}

// TestEveryRouteIsInTheMatrix walks the routes the console registers: each
// is open on purpose (publicRoutes) or has a row in routeTable, so that a
// new route cannot ship without its rights tested.
func TestEveryRouteIsInTheMatrix(t *testing.T) {
	tc := newTestConsole(t)
	var rows []string
	for _, r := range routeTable() {
		method, path, _ := r.make(tc)
		path, _, _ = strings.Cut(path, "?")
		rows = append(rows, method+" "+path)
	}
	for _, r := range tc.echo.Routes() {
		if r.Method == echo.RouteNotFound {
			continue // the catch-alls that answer 404
		}
		name := r.Method + " " + r.Path
		if slices.Contains(publicRoutes, name) {
			continue
		}
		// The management API takes a token, not a session: its own matrix.
		if strings.HasPrefix(r.Path, "/api/v1/") && slices.ContainsFunc(apiRouteTable(), func(a apiRoute) bool { return a.method+" "+a.pattern == name }) {
			continue
		}
		pattern := regexp.MustCompile("^" + r.Method + " " + regexp.MustCompile(`:[a-z_]+`).ReplaceAllString(regexp.QuoteMeta(r.Path), "[^/]+") + "$")
		if !slices.ContainsFunc(rows, pattern.MatchString) {
			t.Errorf("%s has no row in the rights matrix", name)
		}
	}
}

// TestRightsMatrix sends every route as every built-in role and as a role
// with no rights: each gets its route's success or a 403, and a refused
// write changes nothing.
func TestRightsMatrix(t *testing.T) {
	tc := newTestConsole(t)
	nobody, err := tc.store.CreateRole(context.Background(), store.SystemActor("test"), store.RoleInput{Name: "Nobody"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.store.CreateUser(context.Background(), store.SystemActor("test"), store.NewUser{Username: "nobody", Password: testPassword, RoleID: nobody.ID}); err != nil {
		t.Fatal(err)
	}
	roles := map[string][]store.Right{}
	for _, name := range []string{"admin", "manager", "viewer", "nobody"} {
		u, err := tc.store.Authenticate(context.Background(), name, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		roles[name] = u.Rights
	}
	clients := map[string]*client{}
	for name := range roles {
		clients[name] = tc.loggedIn(name)
	}
	for _, r := range routeTable() {
		for name, rights := range roles {
			t.Run(r.name+"/"+name, func(t *testing.T) {
				method, path, form := r.make(tc)
				allowed := true
				for _, need := range r.rights {
					if !slices.Contains(rights, need) {
						allowed = false
					}
				}
				if anyOfRights[r.name] {
					allowed = slices.ContainsFunc(r.rights, func(need store.Right) bool { return slices.Contains(rights, need) })
				}
				before, denied := tc.snapshot(), tc.deniedEvents()
				var res response
				if method == "GET" {
					res = clients[name].get(path)
				} else {
					res = clients[name].post(path, form)
				}
				want := r.ok
				if !allowed {
					want = http.StatusForbidden
				}
				if res.Code != want {
					t.Fatalf("%s %s as %s: status %d, want %d\n%.600s", method, path, name, res.Code, want, res.Body)
				}
				if !allowed && tc.snapshot() != before {
					t.Fatalf("a refused %s %s changed the database", method, path)
				}
				if !allowed && !strings.Contains(res.Body.String(), "You do not have the right") {
					t.Fatal("the refusal does not say why")
				}
				// A refusal leaves exactly its access.denied event.
				if wantDenied := denied + map[bool]int{true: 0, false: 1}[allowed]; tc.deniedEvents() != wantDenied {
					t.Fatalf("%d access.denied events, want %d", tc.deniedEvents(), wantDenied)
				}
			})
		}
	}
}
