package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/keydesk/keydesk/store"
)

// TestRefusalsDoNotFloodTheAuditLog sends a Viewer's forbidden request
// hundreds of times: every one is refused, and the audit log holds one
// event that counts them.
func TestRefusalsDoNotFloodTheAuditLog(t *testing.T) {
	tc := newTestConsole(t)
	viewer := tc.loggedIn("viewer")
	for i := 0; i < 200; i++ {
		res := viewer.post("/keys", url.Values{"name": {"nope"}, "permissions": {"chat"}})
		wantStatus(t, res, http.StatusForbidden)
	}
	events, err := tc.store.EachEvent(context.Background(), store.Scope{}, store.EventFilter{Action: store.ActionAccessDenied}, func(store.Event) error { return nil })
	if err != nil || events != 1 {
		t.Fatalf("%d access.denied events after 200 refusals (%v), want 1", events, err)
	}
	if n := tc.deniedEvents(); n != 200 {
		t.Fatalf("the event counts %d refusals, want 200", n)
	}
}
