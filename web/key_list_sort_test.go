package web

import (
	"net/http"
	"testing"
)

// TestOldKeySortStillWorks: the Key column is no longer sortable, but an
// old bookmark that sorts by it still lists the keys, with and without
// htmx.
func TestOldKeySortStillWorks(t *testing.T) {
	tc := newTestConsole(t)
	tc.createKey("bookmarked-a")
	tc.createKey("bookmarked-b")
	cl := tc.loggedIn("admin")
	for _, res := range []response{cl.get("/keys?sort=key"), cl.htmx("/keys?sort=key&dir=desc")} {
		wantStatus(t, res, http.StatusOK)
		if n := res.doc().Find(`[data-testid=key-row]`).Length(); n != 2 {
			t.Fatalf("%d rows", n)
		}
		if n := res.doc().Find(`[data-testid=sort-key]`).Length(); n != 0 {
			t.Fatal("the Key column is still sortable")
		}
	}
}
