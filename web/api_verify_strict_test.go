package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keydesk/keydesk/store"
)

func TestVerifyAPIIsStrict(t *testing.T) {
	tc := newTestConsole(t)
	_, secret := createdSecret(t, tc, store.NewKey{Name: "strict", Permissions: []string{"chat"}, Enabled: true, Capacity: 1000, Frequency: 60})
	good := keyBody(secret, "chat")

	t.Run("content type", func(t *testing.T) {
		for _, tt := range []struct {
			contentType string
			want        int
		}{
			{"application/json", http.StatusOK},
			{"application/json; charset=utf-8", http.StatusOK},
			{"Application/JSON", http.StatusOK},
			{"", http.StatusUnsupportedMediaType},
			{"text/plain", http.StatusUnsupportedMediaType},
			{"text/json", http.StatusUnsupportedMediaType},
			{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
			{"multipart/form-data; boundary=x", http.StatusUnsupportedMediaType},
			{"application/jsonp", http.StatusUnsupportedMediaType},
			{"application/json;;", http.StatusUnsupportedMediaType},
		} {
			rec, out := callVerify(t, tc.h, good, "Content-Type", tt.contentType)
			if rec.Code != tt.want {
				t.Errorf("Content-Type %q: status %d, want %d: %v", tt.contentType, rec.Code, tt.want, out)
				continue
			}
			if tt.want == http.StatusOK && out["valid"] != true {
				t.Errorf("Content-Type %q: %v", tt.contentType, out)
			}
			if tt.want != http.StatusOK && errCode(out) != "UNSUPPORTED_MEDIA_TYPE" {
				t.Errorf("Content-Type %q: %v", tt.contentType, out)
			}
		}
	})

	t.Run("body", func(t *testing.T) {
		for _, tt := range []struct {
			name, body string
			message    string // part of the message; "" when accepted
		}{
			{"one object", good, ""},
			{"white space after the object", good + " \n\t", ""},
			{"no permission", `{"key": "` + secret + `"}`, ""},
			{"null permission", `{"key": "` + secret + `", "permission": null}`, ""},
			{"trailing word", good + " x", "nothing after it"},
			{"trailing object", good + `{}`, "nothing after it"},
			{"two requests", good + "\n" + good, "nothing after it"},
			{"trailing comma", good + ",", "nothing after it"},
			{"duplicate key", `{"key": "kd_x", "key": "` + secret + `"}`, `"key" appears more than once`},
			{"duplicate permission", `{"key": "` + secret + `", "permission": "other", "permission": "chat"}`, `"permission" appears more than once`},
			{"KEY in capitals", `{"KEY": "` + secret + `"}`, `"KEY" is not known`},
			{"Key", `{"Key": "` + secret + `"}`, `"Key" is not known`},
			{"key and KEY", `{"key": "` + secret + `", "KEY": "kd_x"}`, `"KEY" is not known`},
			{"Permission", `{"key": "` + secret + `", "Permission": "chat"}`, `"Permission" is not known`},
			{"unknown field", `{"key": "` + secret + `", "tenant": "a"}`, `"tenant" is not known`},
			{"the key as a name", `{"` + secret + `": "chat"}`, "with a long name is not known"},
			{"key not a string", `{"key": ["` + secret + `"]}`, `"key" must be a string`},
			{"null", `null`, "one JSON object"},
			{"array", `["` + secret + `"]`, "one JSON object"},
			{"empty", ``, "one JSON object"},
			{"cut short", `{"key": "` + secret, "one JSON object"},
			{"invalid UTF-8", "{\"key\": \"" + secret + "\xff\"}", "one JSON object"},
			{"no key", `{"permission": "chat"}`, `"key" is missing`},
			{"null key", `{"key": null}`, `"key" is missing`},
		} {
			t.Run(tt.name, func(t *testing.T) {
				rec, out := callVerify(t, tc.h, tt.body)
				if tt.message == "" {
					if rec.Code != http.StatusOK || out["valid"] != true {
						t.Fatalf("refused: %d %v", rec.Code, out)
					}
					return
				}
				if rec.Code != http.StatusBadRequest || errCode(out) != "BAD_REQUEST" {
					t.Fatalf("status %d, want 400 BAD_REQUEST: %v", rec.Code, out)
				}
				msg := out["error"].(map[string]any)["message"].(string)
				if !strings.Contains(msg, tt.message) {
					t.Errorf("message %q does not say %q", msg, tt.message)
				}
				if strings.Contains(rec.Body.String(), secret) {
					t.Errorf("the answer repeats the key: %s", rec.Body)
				}
			})
		}
	})
}

// errCode is the code of a JSON error answer.
func errCode(out map[string]any) any {
	e, _ := out["error"].(map[string]any)
	return e["code"]
}

func TestAPIAnswersWrongMethodsAndPathsInJSON(t *testing.T) {
	tc := newTestConsole(t)
	_, secret := createdSecret(t, tc, store.NewKey{Name: "in-query", Permissions: []string{"chat"}, Enabled: true, Capacity: 5, Frequency: 60})
	admin := tc.loggedIn("admin")
	for _, tt := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodGet, "/api/v1/keys/verify?key=" + secret, http.StatusMethodNotAllowed, "POST"},
		{http.MethodHead, "/api/v1/keys/verify?key=" + secret, http.StatusMethodNotAllowed, "POST"},
		{http.MethodPut, "/api/v1/keys/verify?key=" + secret, http.StatusMethodNotAllowed, "POST"},
		{http.MethodPatch, "/api/v1/keys/verify?key=" + secret, http.StatusMethodNotAllowed, "POST"},
		{http.MethodDelete, "/api/v1/keys/verify?key=" + secret, http.StatusMethodNotAllowed, "POST"},
		{http.MethodOptions, "/api/v1/keys/verify?key=" + secret, http.StatusMethodNotAllowed, "POST"},
		{http.MethodPost, "/api/v1/status?key=" + secret, http.StatusMethodNotAllowed, "GET"},
		// A route with a parameter: the address of any key.
		{http.MethodPut, "/api/v1/apikeys/any-key-id", http.StatusMethodNotAllowed, "DELETE, GET, PATCH"},
		{http.MethodGet, "/api/v1/apikeys/any-key-id/rotate", http.StatusMethodNotAllowed, "POST"},
		{http.MethodGet, "/api/v1/apikeys/any-key-id/rotate/again", http.StatusNotFound, ""},
		{http.MethodGet, "/api/v1/keys/verify/?key=" + secret, http.StatusNotFound, ""},
		{http.MethodGet, "/api/v1/keys?key=" + secret, http.StatusNotFound, ""},
		{http.MethodPost, "/api/v2/keys/verify?key=" + secret, http.StatusNotFound, ""},
		{http.MethodGet, "/api/?key=" + secret, http.StatusNotFound, ""},
	} {
		for _, who := range []string{"service", "browser", "htmx"} {
			t.Run(tt.method+" "+strings.Split(tt.path, "?")[0]+" "+who, func(t *testing.T) {
				req := httptest.NewRequest(tt.method, tt.path, nil)
				rec := httptest.NewRecorder()
				switch who {
				case "service":
					tc.h.ServeHTTP(rec, req)
				case "htmx":
					req.Header.Set("HX-Request", "true")
					fallthrough
				case "browser":
					req.Header.Set("Sec-Fetch-Site", "cross-site")
					for _, ck := range admin.jar.Cookies(base) {
						req.AddCookie(ck)
					}
					tc.h.ServeHTTP(rec, req)
				}
				if rec.Code != tt.status {
					t.Fatalf("status %d, want %d\n%s", rec.Code, tt.status, rec.Body)
				}
				if loc := rec.Header().Get("Location"); loc != "" {
					t.Fatalf("redirected to %q", loc)
				}
				if got := rec.Header().Get("Allow"); got != tt.allow {
					t.Errorf("Allow %q, want %q", got, tt.allow)
				}
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type %q", ct)
				}
				for name, values := range rec.Header() {
					if strings.Contains(strings.Join(values, " "), secret) {
						t.Errorf("header %s repeats the key", name)
					}
				}
				if strings.Contains(rec.Body.String(), secret) {
					t.Errorf("the answer repeats the key: %s", rec.Body)
				}
				if tt.method == http.MethodHead {
					return
				}
				want := map[int]string{http.StatusMethodNotAllowed: "METHOD_NOT_ALLOWED", http.StatusNotFound: "NOT_FOUND"}[tt.status]
				if !strings.Contains(rec.Body.String(), `"code":"`+want+`"`) {
					t.Errorf("body %s, want code %s", rec.Body, want)
				}
			})
		}
	}
}
