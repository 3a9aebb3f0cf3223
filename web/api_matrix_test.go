package web

import (
	"context"
	"net/http"
	"slices"
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
