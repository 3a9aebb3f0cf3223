package web

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keydesk/keydesk/store"
)

// apiRoute is one route of the management API for the rights matrix: its
// pattern as registered, the rights it takes, the status it answers when
// they are there, and how to make one request of it.
type apiRoute struct {
	method, pattern string
	rights          []store.Right
	ok              int
	make            func(tc *testConsole) (path, body string)
}

func apiRouteTable() []apiRoute {
	read := []store.Right{store.RightKeysView, store.RightKeysRead}
	with := func(r ...store.Right) []store.Right { return append(slices.Clone(read), r...) }
	key := func(tc *testConsole) string { return "/api/v1/apikeys/" + tc.freshKey().ID }
	fixed := func(path, body string) func(*testConsole) (string, string) {
		return func(*testConsole) (string, string) { return path, body }
	}
	return []apiRoute{
		{"GET", "/api/v1/me", nil, 200, fixed("/api/v1/me", "")},
		{"GET", "/api/v1/permissions", nil, 200, fixed("/api/v1/permissions", "")},
		{"POST", "/api/v1/permissions", []store.Right{store.RightSettings}, 201, func(*testConsole) (string, string) {
			return "/api/v1/permissions", `{"name": "` + fresh("p") + `:chat", "description": "A test permission."}`
		}},
		{"GET", "/api/v1/tenants", nil, 200, fixed("/api/v1/tenants", "")},
		{"POST", "/api/v1/tenants", []store.Right{store.RightOrgs}, 201, func(*testConsole) (string, string) {
			return "/api/v1/tenants", `{"name": "` + fresh("t") + `"}`
		}},
		{"GET", "/api/v1/events", []store.Right{store.RightAudit}, 200, fixed("/api/v1/events", "")},
		{"GET", "/api/v1/apikeys", read, 200, fixed("/api/v1/apikeys", "")},
		{"POST", "/api/v1/apikeys", with(store.RightKeysCreate), 201, func(*testConsole) (string, string) {
			return "/api/v1/apikeys", `{"tenant": "*", "name": "` + fresh("k") + `", "permissions": ["chat"]}`
		}},
		{"GET", "/api/v1/apikeys/:id", read, 200, func(tc *testConsole) (string, string) { return key(tc), "" }},
		{"PATCH", "/api/v1/apikeys/:id", with(store.RightKeysUpdate), 200, func(tc *testConsole) (string, string) {
			return key(tc), `{"enabled": false}`
		}},
		{"POST", "/api/v1/apikeys/:id/revoke", with(store.RightKeysUpdate), 200, func(tc *testConsole) (string, string) {
			return key(tc) + "/revoke", ""
		}},
		{"POST", "/api/v1/apikeys/:id/rotate", with(store.RightKeysUpdate), 200, func(tc *testConsole) (string, string) {
			return key(tc) + "/rotate", `{"grace_days": 0}`
		}},
		{"DELETE", "/api/v1/apikeys/:id", with(store.RightKeysDelete), 204, func(tc *testConsole) (string, string) { return key(tc), "" }},
		{"POST", "/api/v1/apikeys/bulk", with(store.RightKeysUpdate), 200, func(tc *testConsole) (string, string) {
			return "/api/v1/apikeys/bulk", `{"action": "disable", "ids": ["` + tc.freshKey().ID + `"]}`
		}},
	}
}

// TestAPIRightsMatrix sends every management API route with a token of
// each built-in role's rights: each gets its success, or FORBIDDEN when
// the token lacks a right the route takes, and a refused request changes
// nothing. TestEveryRouteIsInTheMatrix holds every /api/v1 route but
// verification's and status to this table.
func TestAPIRightsMatrix(t *testing.T) {
	tc := newTestConsole(t)
	tokens := map[string]string{}
	rights := map[string][]store.Right{}
	for _, name := range []string{"admin", "manager", "viewer"} {
		u, err := tc.store.Authenticate(context.Background(), name, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		_, tok, err := tc.store.CreateToken(context.Background(), store.SystemActor("test"), u.ID,
			store.NewToken{Name: "matrix", Rights: u.Rights, ExpiresAt: tc.clock.now.Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		tokens[name], rights[name] = "Bearer "+tok, u.Rights
	}
	for _, r := range apiRouteTable() {
		for name, held := range rights {
			t.Run(r.method+" "+r.pattern+"/"+name, func(t *testing.T) {
				path, body := r.make(tc)
				allowed := !slices.ContainsFunc(r.rights, func(need store.Right) bool { return !slices.Contains(held, need) })
				before := tc.snapshot()
				code, out := apiDo(t, tc, r.method, path, tokens[name], body)
				want := r.ok
				if !allowed {
					want = http.StatusForbidden
				}
				if code != want {
					t.Fatalf("%s %s as %s: %d, want %d: %v", r.method, path, name, code, want, out)
				}
				if !allowed && (tc.snapshot() != before || out["error"].(map[string]any)["code"] != "FORBIDDEN") {
					t.Fatalf("a refused %s %s changed something, or did not say FORBIDDEN: %v", r.method, path, out)
				}
			})
		}
	}
}

// apiScopeRow is one request of the scope matrix: the route it takes, the
// status it must get and what the answer must hold.
type apiScopeRow struct {
	method, pattern, path, body string
	want                        int
	check                       func(out map[string]any) bool
}

// TestAPIScopeMatrix sends every management API route with a token of an
// administrator of one organization, about a sibling organization and its
// key: reads leave them out, a key of theirs does not exist, and nothing
// about them can be changed. Every route of apiRouteTable has a row.
func TestAPIScopeMatrix(t *testing.T) {
	tc := newTestConsole(t)
	acme, globex := tc.newOrg("Acme", ""), tc.newOrg("Globex", "")
	boss := tc.newUserAt("acme-admin", store.RoleAdministrator, acme)
	auth := tc.bearer(boss.ID, boss.Rights...)
	theirs := func() string { return tc.createKey(fresh("globex"), func(in *store.NewKey) { in.Org = globex.ID }).ID }
	other := theirs()
	ours := tc.createKey(fresh("acme"), func(in *store.NewKey) { in.Org = acme.ID }).ID
	mentions := func(out map[string]any, id string) bool {
		b, _ := json.Marshal(out)
		return strings.Contains(string(b), id)
	}
	rows := []apiScopeRow{
		{"GET", "/api/v1/me", "/api/v1/me", "", 200, func(out map[string]any) bool { return out["user"].(map[string]any)["org"] == acme.ID }},
		{"GET", "/api/v1/permissions", "/api/v1/permissions", "", 200, func(map[string]any) bool { return true }},
		// The catalog is the whole tree's: only a whole-tree user adds to it.
		{"POST", "/api/v1/permissions", "/api/v1/permissions", `{"name": "acme:chat", "description": "Acme's own."}`, 403, nil},
		{"GET", "/api/v1/tenants", "/api/v1/tenants", "", 200, func(out map[string]any) bool { return mentions(out, acme.ID) && !mentions(out, globex.ID) }},
		{"POST", "/api/v1/tenants", "/api/v1/tenants", `{"name": "under globex", "parent": "` + globex.ID + `"}`, 422,
			func(out map[string]any) bool { return out["error"].(map[string]any)["field"] == "parent" }},
		{"GET", "/api/v1/events", "/api/v1/events?limit=1000", "", 200, func(out map[string]any) bool { return mentions(out, acme.ID) && !mentions(out, other) }},
		{"GET", "/api/v1/apikeys", "/api/v1/apikeys", "", 200, func(out map[string]any) bool { return mentions(out, ours) && !mentions(out, other) }},
		{"GET", "/api/v1/apikeys", "/api/v1/apikeys?tenant=" + globex.ID, "", 422, nil},
		{"GET", "/api/v1/apikeys", "/api/v1/apikeys?tenant=*", "", 422, nil},
		{"POST", "/api/v1/apikeys", "/api/v1/apikeys", `{"tenant": "` + globex.ID + `", "name": "x", "permissions": ["chat"]}`, 422, nil},
		{"POST", "/api/v1/apikeys", "/api/v1/apikeys", `{"tenant": "*", "name": "x", "permissions": ["chat"]}`, 422, nil},
		{"GET", "/api/v1/apikeys/:id", "/api/v1/apikeys/" + other, "", 404, nil},
		{"PATCH", "/api/v1/apikeys/:id", "/api/v1/apikeys/" + other, `{"enabled": false}`, 404, nil},
		{"POST", "/api/v1/apikeys/:id/revoke", "/api/v1/apikeys/" + other + "/revoke", "", 404, nil},
		{"POST", "/api/v1/apikeys/:id/rotate", "/api/v1/apikeys/" + other + "/rotate", "", 404, nil},
		{"DELETE", "/api/v1/apikeys/:id", "/api/v1/apikeys/" + other, "", 404, nil},
		{"POST", "/api/v1/apikeys/bulk", "/api/v1/apikeys/bulk", `{"action": "revoke", "ids": ["` + other + `"]}`, 404, nil},
		{"POST", "/api/v1/apikeys/bulk", "/api/v1/apikeys/bulk", `{"action": "delete", "filter": {"tenant": "` + globex.ID + `"}}`, 422, nil},
	}
	for _, r := range apiRouteTable() {
		if !slices.ContainsFunc(rows, func(row apiScopeRow) bool { return row.method == r.method && row.pattern == r.pattern }) {
			t.Errorf("%s %s has no row in the scope matrix", r.method, r.pattern)
		}
	}
	for _, r := range rows {
		before := tc.snapshot()
		code, out := apiDo(t, tc, r.method, r.path, auth, r.body)
		if code != r.want {
			t.Errorf("%s %s: %d, want %d: %v", r.method, r.path, code, r.want, out)
			continue
		}
		if r.check != nil && !r.check(out) { // a success's body, or a refusal's
			t.Errorf("%s %s: %v", r.method, r.path, out)
		}
		if r.method != "GET" && tc.snapshot() != before {
			t.Errorf("%s %s changed something", r.method, r.path)
		}
	}
}
