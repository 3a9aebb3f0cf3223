package web

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPagesAreCompressed asks for the key list, its htmx fragment, the
// stylesheet and the CSV with and without Accept-Encoding: gzip. The
// verification API's small answers are sent as they are.
func TestPagesAreCompressed(t *testing.T) {
	tc := newTestConsole(t)
	for i := range 60 {
		tc.createKey("compressed-" + strings.Repeat("x", i%7) + itoa64(int64(i)))
	}
	cl := tc.loggedIn("admin")
	for _, path := range []string{"/keys", "/keys?q=compressed", "/static/app.css", "/static/htmx.min.js", "/keys/export.csv", "/events"} {
		plain := cl.get(path)
		wantStatus(t, plain, http.StatusOK)
		zipped := cl.get(path, "Accept-Encoding", "gzip")
		if zipped.Header().Get("Content-Encoding") != "gzip" {
			t.Errorf("%s: not compressed", path)
			continue
		}
		zr, err := gzip.NewReader(zipped.Body)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if len(body) < len(plain.Body.Bytes())/2 || zipped.Body.Len() > len(body)/2 {
			t.Errorf("%s: %d bytes compressed to %d; plain %d", path, len(body), zipped.Body.Len(), plain.Body.Len())
		}
	}
	res := cl.post("/keys/test", url.Values{"key": {"kd_nope"}}, "Accept-Encoding", "gzip")
	if res.Header().Get("Content-Encoding") != "gzip" {
		t.Error("the Test key page is not compressed")
	}
	api, out := callVerify(t, tc.h, `{"key": "kd_nope"}`, "Accept-Encoding", "gzip")
	if api.Header().Get("Content-Encoding") != "" || out["valid"] != false {
		t.Errorf("the verification API answered %v compressed %q", out, api.Header().Get("Content-Encoding"))
	}
}

// TestARefusedDownloadSaysWhy: a download whose query is refused answers
// with its error page, compressed or not, as any page does.
func TestARefusedDownloadSaysWhy(t *testing.T) {
	tc := newTestConsole(t)
	cl := tc.loggedIn("admin")
	for _, path := range []string{"/keys/export.csv?status=bogus", "/events/export.csv?action=bogus"} {
		for _, encoding := range []string{"", "gzip", "zstd"} {
			res := cl.get(path, "Accept-Encoding", encoding)
			if res.Code < 400 || res.Code >= 500 {
				t.Errorf("%s (%q): status %d", path, encoding, res.Code)
			}
			if ct := res.Header().Get("Content-Type"); strings.Contains(ct, "csv") {
				t.Errorf("%s (%q): the error page came as %s", path, encoding, ct)
			}
		}
	}
}

// TestEveryPageMasksTheCSRFTokenAfresh checks that no page carries the
// CSRF token as it is (compression would leak it), that two pages carry it
// differently, and that each masked form works.
func TestEveryPageMasksTheCSRFTokenAfresh(t *testing.T) {
	tc := newTestConsole(t)
	k := tc.createKey("masked")
	cl := tc.loggedIn("admin")
	raw := cl.csrf()
	first := cl.get("/keys").doc().Find(`meta[name="csrf-token"]`).AttrOr("content", "")
	second := cl.get("/keys").doc().Find(`meta[name="csrf-token"]`).AttrOr("content", "")
	if first == second || strings.Contains(first, raw) || strings.Contains(cl.get("/keys").Body.String(), raw) {
		t.Fatalf("the token is not masked afresh: %q, %q (raw %q)", first, second, raw)
	}
	for _, token := range []string{first, second} {
		res := cl.postRaw("/keys/"+k.ID+"/disable", url.Values{"_csrf": {token}})
		wantStatus(t, res, http.StatusSeeOther)
	}
	res := cl.postRaw("/keys/"+k.ID+"/enable", nil, "X-CSRF-Token", second, "HX-Request", "true")
	if res.Code >= 400 {
		t.Fatalf("a masked token in the header was refused: %d", res.Code)
	}
	// A masked token of another session's token is refused.
	forged := maskToken("another-sessions-token-000000000")
	wantStatus(t, cl.postRaw("/keys/"+k.ID+"/disable", url.Values{"_csrf": {forged}}), http.StatusForbidden)
}
