package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/keydesk/keydesk/store"
)

// postMultipart sends fields as multipart/form-data, as a browser may.
func (cl *client) postMultipart(path string, fields url.Values) response {
	cl.c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			if err := mw.WriteField(k, v); err != nil {
				cl.c.t.Fatal(err)
			}
		}
	}
	if err := mw.Close(); err != nil {
		cl.c.t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return cl.do(req)
}

func TestPostedFieldsComeFromTheBodyOnly(t *testing.T) {
	tc := newTestConsole(t)
	_, secret := createdSecret(t, tc, store.NewKey{Name: "in-url", Permissions: []string{"chat"}, Enabled: true, Capacity: 5, Frequency: 60})

	t.Run("login with the credentials in the URL", func(t *testing.T) {
		for _, multi := range []bool{false, true} {
			cl := tc.client()
			path := "/login?" + url.Values{"username": {"admin"}, "password": {testPassword}}.Encode()
			body := url.Values{"_csrf": {cl.csrf()}}
			var res response
			if multi {
				res = cl.postMultipart(path, body)
			} else {
				res = cl.postRaw(path, body)
			}
			if res.Code == http.StatusSeeOther {
				t.Fatalf("multipart %v: logged in with the password in the URL (Location %q)", multi, res.Header().Get("Location"))
			}
			if got := cl.get("/keys"); got.Code != http.StatusSeeOther || !strings.HasPrefix(got.Header().Get("Location"), "/login") {
				t.Fatalf("multipart %v: /keys answers %d after a login from the URL", multi, got.Code)
			}
		}
	})

	t.Run("key test with the key in the URL", func(t *testing.T) {
		viewer := tc.loggedIn("viewer")
		path := "/keys/test?" + url.Values{"key": {secret}}.Encode()
		for name, res := range map[string]response{
			"urlencoded": viewer.post(path, nil),
			"multipart":  viewer.postMultipart(path, url.Values{"_csrf": {viewer.csrf()}}),
			"htmx":       viewer.post(path, nil, "HX-Request", "true"),
		} {
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if !strings.Contains(res.Body.String(), "Paste the key to test.") {
				t.Errorf("%s: the page does not ask for the key", name)
			}
			if strings.Contains(res.Body.String(), secret) || res.doc().Find(`[data-testid=test-result]`).Length() != 0 {
				t.Errorf("%s: the key in the URL was tested or sent back", name)
			}
		}
		// The body still works, urlencoded or multipart.
		wantStatus(t, viewer.post("/keys/test", url.Values{"key": {secret}}), http.StatusOK)
		wantStatus(t, viewer.postMultipart("/keys/test", url.Values{"key": {secret}, "_csrf": {viewer.csrf()}}), http.StatusOK)
	})

	t.Run("CSRF token in the URL", func(t *testing.T) {
		k := tc.createKey("csrf-in-url")
		admin := tc.loggedIn("admin")
		for _, headers := range [][]string{nil, {"HX-Request", "true"}} {
			res := admin.postRaw("/keys/"+k.ID+"/revoke?_csrf="+url.QueryEscape(admin.csrf()), url.Values{}, headers...)
			wantStatus(t, res, http.StatusForbidden)
		}
		if got, _ := tc.store.Key(t.Context(), store.Scope{}, k.ID); got.Revoked() {
			t.Fatal("a token in the URL revoked the key")
		}
	})
}
