package web

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// TestIdleTimeoutOfAMinute: "last seen" is refreshed often enough that a
// short idle timeout ends idle sessions only.
func TestIdleTimeoutOfAMinute(t *testing.T) {
	tc := newTestConsole(t)
	e, err := New(context.Background(), tc.store, Config{IdleTimeout: time.Minute, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	tc.h = e
	cl := tc.loggedIn("admin")
	for i := range 10 {
		tc.clock.now = tc.clock.now.Add(30 * time.Second)
		if res := cl.get("/keys"); res.Code != http.StatusOK {
			t.Fatalf("logged out after %d seconds of use", (i+1)*30)
		}
	}
	tc.clock.now = tc.clock.now.Add(61 * time.Second)
	wantStatus(t, cl.get("/keys"), http.StatusSeeOther)
}
