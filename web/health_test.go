package web

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keydesk/keydesk/store"
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

func TestReadyzReadsTheDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keydesk.db")
	st, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e, err := New(t.Context(), st, Config{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}

	res := get("/readyz")
	if res.Code != http.StatusOK || res.Body.String() != "ok\n" {
		t.Fatalf("a sound database: %d %q", res.Code, res.Body)
	}
	if len(res.Result().Cookies()) != 0 {
		t.Errorf("/readyz sets cookies: %v", res.Result().Cookies())
	}

	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(strings.Repeat("garbage!", 16)), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	res = get("/readyz")
	if res.Code != http.StatusServiceUnavailable || res.Body.String() != "database: file is not a database\n" {
		t.Fatalf("a damaged database: %d %q", res.Code, res.Body)
	}
	if res := get("/healthz"); res.Code != http.StatusOK || res.Body.String() != "ok\n" {
		t.Fatalf("liveness on a damaged database: %d %q", res.Code, res.Body)
	}
}
