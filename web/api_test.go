package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
	for auth, wantCode := range map[string]string{
		"":                                     "UNAUTHORIZED",
		"Bearer " + token[:len(token)-1] + "x": "UNAUTHORIZED",
		"Bearer " + store.NewSecret():          "UNAUTHORIZED", // a key, not a token
		"Basic dXNlcjpwYXNz":                   "UNAUTHORIZED",
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
