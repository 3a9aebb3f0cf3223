package web

import (
	"net/http"
	"strings"
	"testing"
)

func TestStaticServesFilesOnly(t *testing.T) {
	tc := newBareConsole(t)
	cl := tc.client()
	for _, path := range []string{"/static/", "/static/?v=x", "/static//", "/static/./", "/static/nothing.css"} {
		res := cl.get(path)
		if res.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, res.Code)
		}
		if strings.Contains(res.Body.String(), "app.css") {
			t.Errorf("%s lists the assets:\n%s", path, res.Body)
		}
	}
	res := cl.get("/static/app.css")
	wantStatus(t, res, http.StatusOK)
	if ct := res.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := res.Header().Get("Cache-Control"); cc != "" {
		t.Errorf("an unversioned asset is cached for good: %q", cc)
	}
	res = cl.get("/static/app.css?v=1234")
	wantStatus(t, res, http.StatusOK)
	if cc := res.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("a versioned asset: Cache-Control %q", cc)
	}
}
