package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keydesk/keydesk/store"
)

// apiCall sends a management API request with an Authorization header as
// given, and decodes the JSON answer.
func apiCall(t *testing.T, tc *testConsole, method, path, authorization string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	tc.h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: not JSON: %s", method, path, rec.Body)
	}
	if rec.Header().Get("Set-Cookie") != "" {
		t.Fatalf("%s %s set a cookie", method, path)
	}
	return rec.Code, out
}

// TestAPICaller: the management API takes an access token as a bearer
// token or bare, answers who the caller is with the token's rights only,
// and refuses anything else with a JSON error whose code says why.
func TestAPICaller(t *testing.T) {
	tc := newTestConsole(t)
	manager, _ := tc.store.Authenticate(t.Context(), "manager", testPassword)
	_, token, err := tc.store.CreateToken(t.Context(), store.SystemActor("test"), manager.ID,
		store.NewToken{Name: "ci", Rights: []store.Right{store.RightKeysView, store.RightKeysRead}, ExpiresAt: tc.clock.now.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, auth := range []string{"Bearer " + token, "bearer " + token, token} {
		code, out := apiCall(t, tc, "GET", "/api/v1/me", auth)
		user, _ := out["user"].(map[string]any)
		rights, _ := user["rights"].([]any)
		if code != http.StatusOK || user["username"] != "manager" || len(rights) != 2 {
			t.Fatalf("%q: %d %v", auth, code, out)
		}
	}
	// The token with its last letter changed (to another letter).
	last := map[bool]string{false: "x", true: "y"}[strings.HasSuffix(token, "x")]
	for auth, wantCode := range map[string]string{
		"":                                      "UNAUTHORIZED",
		"Bearer " + token[:len(token)-1] + last: "UNAUTHORIZED",
		"Bearer " + store.NewSecret():           "UNAUTHORIZED", // a key, not a token
		"Basic dXNlcjpwYXNz":                    "UNAUTHORIZED",
	} {
		code, out := apiCall(t, tc, "GET", "/api/v1/me", auth)
		e, _ := out["error"].(map[string]any)
		if code != http.StatusUnauthorized || e["code"] != wantCode || e["message"] == "" {
			t.Fatalf("%q: %d %v", auth, code, out)
		}
	}
	code, out := apiCall(t, tc, "GET", "/api/v1/permissions", "Bearer "+token)
	if data, _ := out["data"].([]any); code != http.StatusOK || len(data) == 0 {
		t.Fatalf("permissions: %d %v", code, out)
	}
	if code, out := apiCall(t, tc, "GET", "/api/v1/nothing-here", "Bearer "+token); code != http.StatusNotFound {
		t.Fatalf("an unknown API path: %d %v", code, out)
	}
}

// TestAPIShowKey: a key of the token's organizations, in the provisioning
// API's shape, "*" for a key at the root; a key outside them does not
// exist; a token without the right to read keys is FORBIDDEN.
func TestAPIShowKey(t *testing.T) {
	tc := newTestConsole(t)
	acme := tc.newOrg("Acme", "")
	inAcme := tc.createKey("acme-key", func(in *store.NewKey) { in.Org = acme.ID; in.Capacity, in.Frequency = 120, 60 })
	atRoot := tc.createKey("cluster-key")
	robot := tc.newUserAt("robot", store.RoleKeyManager, acme)
	token := func(rights ...store.Right) string { return tc.bearer(robot.ID, rights...) }
	reader := token(store.RightKeysView, store.RightKeysRead)
	code, out := apiCall(t, tc, "GET", "/api/v1/apikeys/"+inAcme.ID, reader)
	if code != http.StatusOK || out["id"] != inAcme.ID || out["tenant"] != acme.ID || out["name"] != "acme-key" ||
		out["capacity"] != 120.0 || out["frequency"] != 60.0 || out["enabled"] != true || out["revoked"] != false || out["expires"] != false {
		t.Fatalf("%d %v", code, out)
	}
	code, out = apiCall(t, tc, "GET", "/api/v1/apikeys/"+atRoot.ID, reader)
	if e, _ := out["error"].(map[string]any); code != http.StatusNotFound || e["code"] != "NOT_FOUND" {
		t.Fatalf("a key above the token's organization: %d %v", code, out)
	}
	code, out = apiCall(t, tc, "GET", "/api/v1/apikeys/"+inAcme.ID, token(store.RightKeysView))
	if e, _ := out["error"].(map[string]any); code != http.StatusForbidden || e["code"] != "FORBIDDEN" {
		t.Fatalf("a token without apikeys.read: %d %v", code, out)
	}
	admin, _ := tc.store.Authenticate(t.Context(), "admin", testPassword)
	_, rootToken, err := tc.store.CreateToken(t.Context(), store.SystemActor("test"), admin.ID,
		store.NewToken{Name: "t", Rights: []store.Right{store.RightKeysView, store.RightKeysRead}, ExpiresAt: tc.clock.now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if code, out := apiCall(t, tc, "GET", "/api/v1/apikeys/"+atRoot.ID, "Bearer "+rootToken); code != http.StatusOK || out["tenant"] != "*" {
		t.Fatalf("a cluster key: %d %v", code, out)
	}
}

// TestAPIListKeys: the keys of the token's organizations, a page at a
// time by cursor, with rate limits; filters as in the console; a bad
// parameter is INVALID, naming it.
func TestAPIListKeys(t *testing.T) {
	tc := newTestConsole(t)
	acme := tc.newOrg("Acme", "")
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		tc.createKey("acme-"+name, func(in *store.NewKey) { in.Org = acme.ID; in.Capacity, in.Frequency = 7, 9 })
	}
	tc.createKey("root-key")
	robot := tc.newUserAt("robot", store.RoleViewer, acme)
	auth := tc.bearer(robot.ID, store.RightKeysView, store.RightKeysRead)
	var names []string
	path := "/api/v1/apikeys?limit=2"
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("the cursor never ends")
		}
		code, out := apiCall(t, tc, "GET", path, auth)
		data, _ := out["data"].([]any)
		if code != http.StatusOK || len(data) > 2 || out["total"] != 5.0 {
			t.Fatalf("%s: %d %v", path, code, out)
		}
		for _, d := range data {
			k := d.(map[string]any)
			if k["capacity"] != 7.0 || k["frequency"] != 9.0 {
				t.Fatalf("rate limit of %v", k)
			}
			names = append(names, k["name"].(string))
		}
		path = ""
		if next, ok := out["next"].(string); ok {
			path = "/api/v1/apikeys?limit=2&after=" + url.QueryEscape(next)
		}
	}
	if strings.Join(names, ",") != "acme-a,acme-b,acme-c,acme-d,acme-e" {
		t.Fatalf("walked %v", names)
	}
	code, out := apiCall(t, tc, "GET", "/api/v1/apikeys?q=acme-b", auth)
	if data, _ := out["data"].([]any); code != http.StatusOK || len(data) != 1 {
		t.Fatalf("a search: %d %v", code, out)
	}
	for query, field := range map[string]string{"limit=5000": "limit", "limit=x": "limit", "status=bogus": "status", "sort=nope": "sort"} {
		code, out := apiCall(t, tc, "GET", "/api/v1/apikeys?"+query, auth)
		e, _ := out["error"].(map[string]any)
		if code != http.StatusUnprocessableEntity && code != http.StatusBadRequest || e["code"] != "INVALID" || e["field"] != field {
			t.Fatalf("%s: %d %v", query, code, out)
		}
	}
}

// apiPost sends a management API request with a body.
func apiPost(t *testing.T, tc *testConsole, path, authorization, contentType, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Authorization", authorization)
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	tc.h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("POST %s: not JSON: %s", path, rec.Body)
	}
	return rec.Code, out
}

// TestAPICreateKey: the provisioning API's request makes a key in the
// tenant it names ("*" the root) and answers it with its secret, which
// verifies; a body that is not exactly right is refused naming the field,
// and nothing is made.
func TestAPICreateKey(t *testing.T) {
	tc := newTestConsole(t)
	acme := tc.newOrg("Acme", "")
	admin, _ := tc.store.Authenticate(t.Context(), "admin", testPassword)
	auth := tc.bearer(admin.ID, store.RightKeysView, store.RightKeysRead, store.RightKeysCreate)
	const ct = "application/json"
	code, out := apiPost(t, tc, "/api/v1/apikeys", auth, ct,
		`{"enabled": true, "tenant": "`+acme.ID+`", "name": "API key for Acme", "permissions": ["chat"]}`)
	secret, _ := out["key"].(string)
	if code != http.StatusCreated || out["tenant"] != acme.ID || out["name"] != "API key for Acme" || out["capacity"] != 120.0 || !store.WellFormedSecret(secret) {
		t.Fatalf("%d %v", code, out)
	}
	if v, err := tc.store.VerifyKey(t.Context(), secret, "chat", acme.ID); err != nil || !v.Valid {
		t.Fatalf("the new key does not verify: %+v, %v", v, err)
	}
	code, out = apiPost(t, tc, "/api/v1/apikeys", auth, ct,
		`{"enabled": true, "tenant": "*", "name": "cluster", "permissions": ["chat"], "expires": "2027-01-31T00:00:00Z", "capacity": 5, "frequency": 10}`)
	if code != http.StatusCreated || out["tenant"] != "*" || out["expires"] != "2027-01-31T00:00:00Z" || out["capacity"] != 5.0 {
		t.Fatalf("a cluster key: %d %v", code, out)
	}

	before := tc.snapshot()
	for _, c := range []struct{ contentType, body, field string }{
		{"text/plain", `{"name": "x", "permissions": ["chat"]}`, "Content-Type"},
		{ct, `{"name": "x", "permissions": ["chat"], "colour": "red"}`, "colour"},
		{ct, `{"name": "x", "permissions": ["chat"], "capacity": "lots"}`, "capacity"},
		{ct, `{"name": "x", "name": "y", "permissions": ["chat"]}`, "name"},
		{ct, `{"name": "x", "permissions": ["chat"], "expires": "tomorrow"}`, "expires"},
		{ct, `{"name": "x", "permissions": ["chat"]} {}`, ""},
		{ct, `[1]`, ""},
	} {
		code, out := apiPost(t, tc, "/api/v1/apikeys", auth, c.contentType, c.body)
		e, _ := out["error"].(map[string]any)
		var want any // no field when the body as a whole is wrong
		if c.field != "" {
			want = c.field
		}
		if code != http.StatusBadRequest || e["code"] != "INVALID" || e["field"] != want {
			t.Fatalf("%s: %d %v", c.body, code, out)
		}
	}
	code, out = apiPost(t, tc, "/api/v1/apikeys", auth, ct, `{"name": "", "permissions": ["chat"]}`)
	if e, _ := out["error"].(map[string]any); code != http.StatusUnprocessableEntity || e["code"] != "INVALID" || e["field"] != "name" {
		t.Fatalf("an empty name: %d %v", code, out)
	}
	code, out = apiPost(t, tc, "/api/v1/apikeys", auth, ct, `{"name": "x", "permissions": ["chat"], "tenant": "nosuchorg"}`)
	if e, _ := out["error"].(map[string]any); code != http.StatusUnprocessableEntity || e["field"] != "tenant" {
		t.Fatalf("an unknown tenant: %d %v", code, out)
	}
	if tc.snapshot() != before {
		t.Fatal("a refused request made something")
	}
}

// apiDo sends a management API request with a JSON body (or none).
func apiDo(t *testing.T, tc *testConsole, method, path, authorization, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", authorization)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	tc.h.ServeHTTP(rec, req)
	var out map[string]any
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: not JSON: %s", method, path, rec.Body)
		}
	}
	return rec.Code, out
}

// TestAPIKeyLifecycle: change, rotate, revoke and delete a key through
// the API, each as the console's action does (its audit event, by the
// token's user); a token without the right is FORBIDDEN; a key outside
// the token's organizations does not exist.
func TestAPIKeyLifecycle(t *testing.T) {
	tc := newTestConsole(t)
	manager, _ := tc.store.Authenticate(t.Context(), "manager", testPassword)
	token := func(rights ...store.Right) string { return tc.bearer(manager.ID, rights...) }
	all := token(store.RightKeysView, store.RightKeysRead, store.RightKeysUpdate, store.RightKeysDelete)
	reader := token(store.RightKeysView, store.RightKeysRead)
	k, secret := tc.createKeyWithSecret("api-managed")
	path := "/api/v1/apikeys/" + k.ID

	last := tc.lastEventID()
	code, out := apiDo(t, tc, "PATCH", path, all, `{"name": "renamed", "enabled": false, "capacity": 5}`)
	if code != http.StatusOK || out["name"] != "renamed" || out["enabled"] != false || out["capacity"] != 5.0 || out["frequency"] != 60.0 {
		t.Fatalf("PATCH: %d %v", code, out)
	}
	var actions []string
	for _, e := range tc.eventsSince(last) {
		if tokenName, _ := e.Details["token"].(string); e.ActorUsername != "manager" || !strings.HasPrefix(tokenName, "tok_") {
			t.Fatalf("event %s by %q through %v", e.Action, e.ActorUsername, e.Details["token"])
		}
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, " ") != "key.disabled key.rate_limit_set key.renamed" { // newest first
		t.Fatalf("events %v", actions)
	}
	if code, out := apiDo(t, tc, "PATCH", path, all, `{"name": ""}`); code != http.StatusUnprocessableEntity || out["error"].(map[string]any)["field"] != "name" {
		t.Fatalf("an empty name: %d %v", code, out)
	}
	// One change refused refuses them all: the name before it stays.
	last = tc.lastEventID()
	code, out = apiDo(t, tc, "PATCH", path, all, `{"name": "half-renamed", "expires": "2020-01-31T00:00:00Z"}`)
	if e, _ := out["error"].(map[string]any); code != http.StatusUnprocessableEntity || e["field"] != "expires" {
		t.Fatalf("an expiry in the past: %d %v", code, out)
	}
	if got, _ := tc.store.Key(t.Context(), store.Scope{}, k.ID); got.Name != "renamed" || len(tc.eventsSince(last)) != 0 {
		t.Fatalf("a refused PATCH changed the key: %q, %d events", got.Name, len(tc.eventsSince(last)))
	}
	if code, _ := apiDo(t, tc, "PATCH", path, reader, `{"enabled": true}`); code != http.StatusForbidden {
		t.Fatalf("a reader's PATCH: %d", code)
	}
	if code, _ := apiDo(t, tc, "PATCH", path, all, `{"enabled": true}`); code != http.StatusOK {
		t.Fatalf("enable: %d", code)
	}

	code, out = apiDo(t, tc, "POST", path+"/rotate", all, `{"grace_days": 1}`)
	newSecret, _ := out["key"].(string)
	if code != http.StatusOK || !store.WellFormedSecret(newSecret) || out["previous_works_until"] == nil {
		t.Fatalf("rotate: %d %v", code, out)
	}
	for _, s := range []string{secret, newSecret} {
		if v, _ := tc.store.VerifyKey(t.Context(), s, "", ""); !v.Valid {
			t.Fatalf("after the rotation %s… does not verify: %s", s[:6], v.Code)
		}
	}
	if code, out := apiDo(t, tc, "POST", path+"/revoke", all, ""); code != http.StatusOK || out["status"] != "revoked" {
		t.Fatalf("revoke: %d %v", code, out)
	}
	if code, _ := apiDo(t, tc, "DELETE", path, reader, ""); code != http.StatusForbidden {
		t.Fatalf("a reader's DELETE: %d", code)
	}
	if code, _ := apiDo(t, tc, "DELETE", path, all, ""); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	if code, out := apiDo(t, tc, "GET", path, all, ""); code != http.StatusNotFound || out["error"].(map[string]any)["code"] != "NOT_FOUND" {
		t.Fatalf("after the delete: %d %v", code, out)
	}
}

// TestAPIRateLimit: each token has its own allowance, said in the
// RateLimit headers; past it, RATE_LIMITED with Retry-After, while
// another token goes on.
func TestAPIRateLimit(t *testing.T) {
	tc := newTestConsole(t)
	manager, _ := tc.store.Authenticate(t.Context(), "manager", testPassword)
	token := func() string {
		_, tok, err := tc.store.CreateToken(t.Context(), store.SystemActor("test"), manager.ID,
			store.NewToken{Name: "t", Rights: []store.Right{store.RightKeysView}, ExpiresAt: tc.clock.now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	busy, calm := token(), token()
	var last *httptest.ResponseRecorder
	refused := 0
	for i := range defaultAPIBurst + 20 {
		req := httptest.NewRequest("GET", "/api/v1/me", nil)
		req.Header.Set("Authorization", busy)
		rec := httptest.NewRecorder()
		tc.h.ServeHTTP(rec, req)
		if i == 0 && (rec.Header().Get("RateLimit-Limit") != "120" || rec.Header().Get("RateLimit-Remaining") != "119") {
			t.Fatalf("first answer's headers %v", rec.Header())
		}
		if rec.Code == http.StatusTooManyRequests {
			refused++
			last = rec
		}
	}
	if refused < 10 || last == nil || last.Header().Get("Retry-After") == "" || !strings.Contains(last.Body.String(), `"RATE_LIMITED"`) {
		t.Fatalf("%d refused of %d beyond a burst of %d", refused, defaultAPIBurst+20, defaultAPIBurst)
	}
	if code, _ := apiCall(t, tc, "GET", "/api/v1/me", calm); code != http.StatusOK {
		t.Fatalf("another token was held back: %d", code)
	}
}

// TestAPIIdempotency: a POST sent again with the same Idempotency-Key and
// body gets the first answer, secret included, and makes nothing more; the
// same key with another body is a CONFLICT; the kept answer is sealed.
func TestAPIIdempotency(t *testing.T) {
	tc := newTestConsole(t)
	admin, _ := tc.store.Authenticate(t.Context(), "admin", testPassword)
	_, tok, err := tc.store.CreateToken(t.Context(), store.SystemActor("test"), admin.ID, store.NewToken{Name: "p",
		Rights: []store.Right{store.RightKeysView, store.RightKeysRead, store.RightKeysCreate}, ExpiresAt: tc.clock.now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	send := func(key, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/api/v1/apikeys", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		rec := httptest.NewRecorder()
		tc.h.ServeHTTP(rec, req)
		return rec
	}
	body := `{"tenant": "*", "name": "once", "permissions": ["chat"]}`
	first, again := send("k-1", body), send("k-1", body)
	if first.Code != http.StatusCreated || again.Code != http.StatusCreated || first.Body.String() != again.Body.String() ||
		again.Header().Get("Idempotent-Replayed") != "true" || first.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("first %d %s\nagain %d %s", first.Code, first.Body, again.Code, again.Body)
	}
	if page, err := tc.store.Keys(t.Context(), store.Scope{}, store.KeyQuery{Sort: store.SortName}); err != nil || page.Total != 1 {
		t.Fatalf("%d keys made (%v)", page.Total, err)
	}
	var out map[string]any
	json.Unmarshal(first.Body.Bytes(), &out)
	data, _ := os.ReadFile(tc.store.Path())
	if secret, _ := out["key"].(string); secret == "" || bytes.Contains(data, []byte(secret)) {
		t.Fatal("no secret, or the kept answer holds it in clear")
	}
	if other := send("k-1", `{"tenant": "*", "name": "twice", "permissions": ["chat"]}`); other.Code != http.StatusConflict || !strings.Contains(other.Body.String(), `"CONFLICT"`) {
		t.Fatalf("another body with the same key: %d %s", other.Code, other.Body)
	}
	if fresh := send("k-2", `{"tenant": "*", "name": "twice", "permissions": ["chat"]}`); fresh.Code != http.StatusCreated {
		t.Fatalf("a new key: %d %s", fresh.Code, fresh.Body)
	}
}

// TestAPITenantsAndEvents: a token lists its organizations, makes one
// below them with the right to, and reads the audit log of its
// organizations a page at a time with the right to.
func TestAPITenantsAndEvents(t *testing.T) {
	tc := newTestConsole(t)
	acme := tc.newOrg("Acme", "")
	boss := tc.newUserAt("acme-boss", store.RoleAdministrator, acme)
	token := func(rights ...store.Right) string { return tc.bearer(boss.ID, rights...) }
	all := token(store.RightOrgs, store.RightAudit)
	code, out := apiDo(t, tc, "GET", "/api/v1/tenants", all, "")
	if data, _ := out["data"].([]any); code != http.StatusOK || len(data) != 1 || data[0].(map[string]any)["id"] != acme.ID {
		t.Fatalf("tenants: %d %v", code, out)
	}
	code, out = apiDo(t, tc, "POST", "/api/v1/tenants", all, `{"name": "EU"}`)
	if code != http.StatusCreated || out["parent"] != acme.ID || out["path"] != "Default/Acme/EU" {
		t.Fatalf("a new tenant: %d %v", code, out)
	}
	if code, _ := apiDo(t, tc, "POST", "/api/v1/tenants", token(store.RightAudit), `{"name": "US"}`); code != http.StatusForbidden {
		t.Fatalf("without orgs.manage: %d", code)
	}
	tc.createKey("root-key") // at the root: not Acme's
	var actions []string
	path := "/api/v1/events?limit=1"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("the cursor never ends")
		}
		code, out := apiDo(t, tc, "GET", path, all, "")
		if code != http.StatusOK {
			t.Fatalf("%s: %d %v", path, code, out)
		}
		for _, e := range out["data"].([]any) {
			actions = append(actions, e.(map[string]any)["action"].(string))
		}
		path = ""
		if next, ok := out["next"].(string); ok {
			path = "/api/v1/events?limit=1&after=" + next
		}
	}
	if !slices.Contains(actions, store.ActionOrgCreated) || slices.Contains(actions, store.ActionKeyCreated) {
		t.Fatalf("Acme's events, newest first: %v", actions)
	}
	if code, _ := apiDo(t, tc, "GET", "/api/v1/events", token(store.RightOrgs), ""); code != http.StatusForbidden {
		t.Fatalf("without audit.view: %d", code)
	}
}

// TestAPIBulk: the console's bulk actions by ids or by filter, within the
// token's organizations, each taking its own right.
func TestAPIBulk(t *testing.T) {
	tc := newTestConsole(t)
	acme := tc.newOrg("Acme", "")
	var ids []string
	for _, name := range []string{"a", "b", "c"} {
		ids = append(ids, tc.createKey("acme-"+name, func(in *store.NewKey) { in.Org = acme.ID }).ID)
	}
	root := tc.createKey("root-key")
	boss := tc.newUserAt("acme-boss", store.RoleKeyManager, acme)
	token := func(rights ...store.Right) string { return tc.bearer(boss.ID, rights...) }
	update := token(store.RightKeysView, store.RightKeysRead, store.RightKeysUpdate)
	code, out := apiDo(t, tc, "POST", "/api/v1/apikeys/bulk", update, `{"action": "revoke", "ids": ["`+ids[0]+`", "`+ids[1]+`"]}`)
	if code != http.StatusOK || out["changed"] != 2.0 {
		t.Fatalf("revoke by ids: %d %v", code, out)
	}
	code, out = apiDo(t, tc, "POST", "/api/v1/apikeys/bulk", update, `{"action": "disable", "filter": {"status": ["available"], "tenant": "`+acme.ID+`"}, "expected": 1}`)
	if code != http.StatusOK || out["changed"] != 1.0 {
		t.Fatalf("disable by filter: %d %v", code, out)
	}
	if code, out := apiDo(t, tc, "POST", "/api/v1/apikeys/bulk", update, `{"action": "revoke", "ids": ["`+root.ID+`"]}`); code != http.StatusNotFound {
		t.Fatalf("a key outside the token's organizations: %d %v", code, out)
	}
	if code, _ := apiDo(t, tc, "POST", "/api/v1/apikeys/bulk", update, `{"action": "delete", "ids": ["`+ids[2]+`"]}`); code != http.StatusForbidden {
		t.Fatalf("a delete without apikeys.delete: %d", code)
	}
	if code, out := apiDo(t, tc, "POST", "/api/v1/apikeys/bulk", update, `{"action": "explode", "ids": ["`+ids[2]+`"]}`); code != http.StatusBadRequest || out["error"].(map[string]any)["field"] != "action" {
		t.Fatalf("an unknown action: %d %v", code, out)
	}
	if k, _ := tc.store.Key(t.Context(), store.Scope{}, root.ID); k.Revoked() {
		t.Fatal("the root key was touched")
	}
}

// TestAPIAddsPermissions: a whole-tree token with settings.manage adds a
// permission to the catalog, which a key can then be given; a name the
// catalog refuses is INVALID beside the field, and a taken one too.
func TestAPIAddsPermissions(t *testing.T) {
	tc := newTestConsole(t)
	admin, _ := tc.store.Authenticate(t.Context(), "admin", testPassword)
	auth := tc.bearer(admin.ID, store.RightSettings, store.RightKeysView, store.RightKeysRead, store.RightKeysCreate)
	code, out := apiDo(t, tc, "POST", "/api/v1/permissions", auth, `{"name": "nexus:cluster:*", "description": "Every cluster permission."}`)
	if code != http.StatusCreated || out["name"] != "nexus:cluster:*" {
		t.Fatalf("add: %d %v", code, out)
	}
	for _, c := range []struct{ body, field string }{
		{`{"name": "Nexus Chat", "description": "x"}`, "name"},
		{`{"name": "nexus:chat", "description": ""}`, "description"},
		{`{"name": "nexus:cluster:*", "description": "Again."}`, "name"},
	} {
		code, out := apiDo(t, tc, "POST", "/api/v1/permissions", auth, c.body)
		if e, _ := out["error"].(map[string]any); code != http.StatusUnprocessableEntity || e["field"] != c.field {
			t.Fatalf("%s: %d %v", c.body, code, out)
		}
	}
	code, out = apiDo(t, tc, "POST", "/api/v1/apikeys", auth, `{"tenant": "*", "name": "Cluster API key", "permissions": ["nexus:cluster:*"]}`)
	secret, _ := out["key"].(string)
	if code != http.StatusCreated {
		t.Fatalf("a key with the new permission: %d %v", code, out)
	}
	if v, _ := tc.store.VerifyKey(t.Context(), secret, "nexus:cluster:admin", ""); !v.Valid {
		t.Fatalf("the cluster key does not grant nexus:cluster:admin: %s", v.Code)
	}
}

// bearer makes an access token of the user with id, for an hour, granting
// rights, and returns it as an Authorization header.
func (tc *testConsole) bearer(userID int64, rights ...store.Right) string {
	tc.t.Helper()
	_, tok, err := tc.store.CreateToken(tc.t.Context(), store.SystemActor("test"), userID,
		store.NewToken{Name: "t", Rights: rights, ExpiresAt: tc.clock.now.Add(time.Hour)})
	if err != nil {
		tc.t.Fatal(err)
	}
	return "Bearer " + tok
}
