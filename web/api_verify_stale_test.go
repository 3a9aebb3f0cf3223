package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keydesk/keydesk/internal/pgtest"
	"github.com/keydesk/keydesk/store"
)

// TestVerifyAnswersStaleWhileTheDatabaseIsAway: with PostgreSQL out of
// reach, a key verified before still verifies, and the answer carries
// Keydesk-Stale; before, it did not.
func TestVerifyAnswersStaleWhileTheDatabaseIsAway(t *testing.T) {
	if !pgtest.OnPostgres() {
		t.Skip("SQLite's file does not go out of reach")
	}
	url, cut := pgtest.Proxy(t, pgtest.URL(t))
	st, err := store.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h, err := New(t.Context(), st, Config{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := st.CreateKey(t.Context(), store.SystemActor("test"), store.NewKey{Name: "cached", Permissions: []string{"chat"}, Enabled: true, Capacity: 100, Frequency: 1})
	if err != nil {
		t.Fatal(err)
	}
	verify := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/api/v1/keys/verify", strings.NewReader(`{"key": "`+secret+`"}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := verify(); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"valid":true`) || rec.Header().Get("Keydesk-Stale") != "" {
		t.Fatalf("before: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	cut()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		rec := verify()
		if rec.Header().Get("Keydesk-Stale") != "" {
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"valid":true`) {
				t.Fatalf("a stale answer: %d %s", rec.Code, rec.Body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no stale answer after the database went: %d %v %s", rec.Code, rec.Header(), rec.Body)
		}
	}
}
