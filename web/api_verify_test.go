package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keydesk/keydesk/store"
)

// callVerify posts a body to the verification API as a service does: no
// cookie, no CSRF token.
func callVerify(t *testing.T, h http.Handler, body string, headers ...string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/keys/verify", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("answer is not JSON: %q", rec.Body)
	}
	return rec, out
}

func keyBody(secret, permission string) string {
	b, _ := json.Marshal(map[string]string{"key": secret, "permission": permission})
	return string(b)
}

func createdSecret(t *testing.T, tc *testConsole, in store.NewKey) (store.Key, string) {
	t.Helper()
	k, secret, err := tc.store.CreateKey(context.Background(), store.Actor{Username: "admin"}, in)
	if err != nil {
		t.Fatal(err)
	}
	return k, secret
}

func TestVerifyAPI(t *testing.T) {
	tc := newTestConsole(t)
	k, secret := createdSecret(t, tc, store.NewKey{Name: "svc", Permissions: []string{"chat"}, Enabled: true,
		ExpiresAt: tc.clock.now.Add(48 * time.Hour), Capacity: 2, Frequency: 60})

	rec, out := callVerify(t, tc.h, keyBody(secret, "chat"))
	if rec.Code != http.StatusOK || out["valid"] != true || out["id"] != k.ID || out["name"] != "svc" ||
		out["expires_at"] != "2026-11-25T12:00:00Z" {
		t.Fatalf("valid answer %d %v", rec.Code, out)
	}
	if rl := out["ratelimit"].(map[string]any); rl["limit"] != 2.0 || rl["remaining"] != 1.0 || rl["reset"] != 30.0 {
		t.Fatalf("ratelimit %v", rl)
	}
	if rec.Header().Get("RateLimit-Limit") != "2" || rec.Header().Get("RateLimit-Remaining") != "1" || rec.Header().Get("RateLimit-Reset") != "30" {
		t.Fatalf("headers %v", rec.Header())
	}
	if perms := out["permissions"].([]any); len(perms) != 1 || perms[0] != "chat" {
		t.Fatalf("permissions %v", perms)
	}

	// Every code, with its headers where the key is known.
	typo := []byte(secret)
	typo[5] ^= 1
	rec, out = callVerify(t, tc.h, keyBody(secret, "securemail"))
	if out["valid"] != false || out["code"] != "PERMISSION_DENIED" || rec.Header().Get("RateLimit-Remaining") != "1" {
		t.Fatalf("permission denied: %v %v", out, rec.Header())
	}
	callVerify(t, tc.h, keyBody(secret, ""))
	rec, out = callVerify(t, tc.h, keyBody(secret, ""))
	if out["code"] != "RATE_LIMITED" || rec.Header().Get("RateLimit-Remaining") != "0" || rec.Header().Get("Retry-After") != "30" {
		t.Fatalf("rate limited: %v %v", out, rec.Header())
	}
	for body, code := range map[string]string{
		keyBody(string(typo), ""):          "MALFORMED",
		keyBody("", ""):                    "MALFORMED",
		keyBody("sk_live_something", ""):   "MALFORMED",
		keyBody(store.NewSecret(), "chat"): "NOT_FOUND",
	} {
		rec, out := callVerify(t, tc.h, body)
		if rec.Code != http.StatusOK || out["valid"] != false || out["code"] != code || rec.Header().Get("RateLimit-Limit") != "" {
			t.Errorf("%s: %d %v", body, rec.Code, out)
		}
		if len(out) != 2 {
			t.Errorf("an invalid answer says more than valid and code: %v", out)
		}
	}
	admin := tc.loggedIn("admin")
	for _, step := range [][2]string{{"disable", "DISABLED"}, {"enable", "RATE_LIMITED"}, {"revoke", "REVOKED"}} {
		admin.post("/keys/"+k.ID+"/"+step[0], nil)
		if _, out := callVerify(t, tc.h, keyBody(secret, "")); out["code"] != step[1] {
			t.Errorf("after %s: %v, want %s", step[0], out, step[1])
		}
	}
	_, expiring := createdSecret(t, tc, store.NewKey{Name: "short-lived", Permissions: []string{"chat"}, Enabled: true,
		ExpiresAt: tc.clock.now.Add(time.Minute), Capacity: 5, Frequency: 60})
	tc.clock.now = tc.clock.now.Add(time.Minute)
	if _, out := callVerify(t, tc.h, keyBody(expiring, "")); out["code"] != "EXPIRED" {
		t.Errorf("expired: %v", out)
	}

	// Malformed requests.
	for _, body := range []string{"", "{", `{"permission": "chat"}`, `{"key": 12}`, `[1,2]`} {
		rec, out := callVerify(t, tc.h, body)
		if rec.Code != http.StatusBadRequest || out["error"].(map[string]any)["code"] != "BAD_REQUEST" {
			t.Errorf("%q: %d %v", body, rec.Code, out)
		}
	}
	rec, _ = callVerify(t, tc.h, `{"key": "`+strings.Repeat("x", 5000)+`"}`)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("a huge body: %d", rec.Code)
	}
	// A browser page on another site cannot reach it with cookies... but a
	// service, which sends no Fetch Metadata, can.
	rec, _ = callVerify(t, tc.h, keyBody(expiring, ""), "Sec-Fetch-Site", "cross-site")
	if rec.Code != http.StatusOK {
		t.Errorf("cross-site call: %d", rec.Code)
	}
}

func TestVerifyAPIBearerToken(t *testing.T) {
	tc := newTestConsole(t)
	e, err := New(t.Context(), tc.store, Config{Logger: discardLogger(), VerifyToken: "s3rvice-token"})
	if err != nil {
		t.Fatal(err)
	}
	_, secret := createdSecret(t, tc, store.NewKey{Name: "svc", Permissions: []string{"chat"}, Enabled: true, Capacity: 5, Frequency: 60})
	for _, auth := range []string{"", "Bearer wrong", "Basic czNydmljZS10b2tlbg==", "s3rvice-token", "Bearer s3rvice-token-and-more"} {
		rec, out := callVerify(t, e, keyBody(secret, ""), "Authorization", auth)
		if rec.Code != http.StatusUnauthorized || out["error"].(map[string]any)["code"] != "UNAUTHORIZED" || rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: %d %v", auth, rec.Code, out)
		}
	}
	for _, auth := range []string{"Bearer s3rvice-token", "bearer s3rvice-token"} {
		if rec, out := callVerify(t, e, keyBody(secret, ""), "Authorization", auth); rec.Code != http.StatusOK || out["valid"] != true {
			t.Errorf("Authorization %q: %d %v", auth, rec.Code, out)
		}
	}
}

func TestNoSecretInTheLog(t *testing.T) {
	tc := newTestConsole(t)
	var logged bytes.Buffer
	e, err := New(t.Context(), tc.store, Config{Logger: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	tc.h = e
	admin := tc.loggedIn("admin")
	res := admin.post("/keys", url.Values{"name": {"logged"}, "permissions": {"chat"}, "never_expires": {"on"}})
	secret := res.doc().Find(`[data-testid=secret]`).AttrOr("value", "")
	callVerify(t, e, keyBody(secret, "chat"))
	callVerify(t, e, `{"key": "`+secret+`"`) // malformed JSON around a real key
	admin.post("/keys/test", url.Values{"key": {secret}})
	if !strings.Contains(logged.String(), "/api/v1/keys/verify") {
		t.Fatal("the test logged nothing")
	}
	for _, leak := range []string{secret, secret[3:15], testPassword} {
		if strings.Contains(logged.String(), leak) {
			t.Fatalf("the log holds %q", leak)
		}
	}
}

func TestTestKeyPage(t *testing.T) {
	tc := newTestConsole(t)
	k, secret := createdSecret(t, tc, store.NewKey{Name: "tested", Permissions: []string{"chat"}, Enabled: true, Capacity: 1, Frequency: 60})
	viewer := tc.loggedIn("viewer")
	wantStatus(t, viewer.get("/keys/test"), http.StatusOK)
	for i := 0; i < 3; i++ { // testing spends no rate limit
		res := viewer.post("/keys/test", url.Values{"key": {secret}})
		wantStatus(t, res, http.StatusOK)
		if code := res.doc().Find(`[data-testid=test-result]`).AttrOr("data-code", ""); code != "VALID" {
			t.Fatalf("test %d: %s", i, code)
		}
		if res.testid("tested-key") != "tested" || strings.Contains(res.Body.String(), secret) {
			t.Fatal("the result does not name the key, or sends the secret back")
		}
	}
	res := viewer.post("/keys/test", url.Values{"key": {secret}, "permission": {"securemail"}})
	if code := res.doc().Find(`[data-testid=test-result]`).AttrOr("data-code", ""); code != "PERMISSION_DENIED" {
		t.Fatalf("permission: %s", code)
	}
	res = viewer.post("/keys/test", url.Values{"key": {"not-a-key"}})
	if !strings.Contains(res.testid("test-result"), "typo") {
		t.Fatalf("malformed: %q", res.testid("test-result"))
	}
	wantStatus(t, viewer.post("/keys/test", url.Values{"key": {""}}), http.StatusUnprocessableEntity)
	if err := tc.store.FlushUsage(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := tc.store.Key(context.Background(), store.Scope{}, k.ID); got.UseCount != 0 {
		t.Fatalf("testing counted %d uses", got.UseCount)
	}
}

func TestRateLimitForm(t *testing.T) {
	tc := newTestConsole(t)
	k := tc.createKey("limited")
	admin := tc.loggedIn("admin")
	wantStatus(t, admin.post("/keys/"+k.ID+"/rate-limit", url.Values{"capacity": {"10"}, "frequency": {"1"}}), http.StatusSeeOther)
	if got, _ := tc.store.Key(context.Background(), store.Scope{}, k.ID); got.Capacity != 10 || got.Frequency != 1 {
		t.Fatalf("rate limit %d/%d", got.Capacity, got.Frequency)
	}
	for _, f := range []url.Values{{"capacity": {"0"}, "frequency": {"1"}}, {"capacity": {"ten"}, "frequency": {"1"}}, {"capacity": {"5"}, "frequency": {"100000"}}} {
		res := admin.post("/keys/"+k.ID+"/rate-limit", f)
		wantStatus(t, res, http.StatusUnprocessableEntity)
		d := res.doc()
		if d.Find(`[data-testid=capacity]`).AttrOr("value", "") != f.Get("capacity") || res.testid("capacity-error")+res.testid("frequency-error") == "" {
			t.Fatalf("%v: form not kept or no message", f)
		}
	}
	// Copy carries the rate limit.
	if got := admin.get("/keys/new?copy="+k.ID).doc().Find(`[data-testid=capacity]`).AttrOr("value", ""); got != "10" {
		t.Fatalf("copy capacity %q", got)
	}
	body, _ := io.ReadAll(strings.NewReader(admin.get("/keys/" + k.ID).testid("history")))
	if !strings.Contains(string(body), "Rate limit set to 10 per 1s") {
		t.Fatalf("history %q", body)
	}
}
