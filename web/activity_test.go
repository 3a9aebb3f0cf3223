package web

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/keydesk/keydesk/store"
)

// TestActivityPage: the keys of the user's organizations used, refused and
// rate-limited most over a period, busiest first, each linking to its key;
// the refusals that named no key; the same keys in the CSV; nothing of
// another organization; a period that is not offered is refused.
func TestActivityPage(t *testing.T) {
	tc := newTestConsole(t)
	admin := tc.loggedIn("admin")
	if d := admin.get("/activity").doc(); d.Find("[data-testid=empty-state]").Length() != 1 {
		t.Fatal("no empty state before any verification")
	}
	acme := tc.newOrg("Acme", "")
	busy, busySecret := tc.createKeyWithSecret("busy")
	calm, calmSecret := tc.createKeyWithSecret("calm")
	limited, limitedSecret, err := tc.store.CreateKey(t.Context(), store.Actor{Username: "admin"},
		store.NewKey{Name: "limited", Org: acme.ID, Permissions: []string{"chat"}, Enabled: true, Capacity: 2, Frequency: 3600})
	if err != nil {
		t.Fatal(err)
	}
	verify := func(secret, perm, org string, n int) {
		for range n {
			if _, err := tc.store.VerifyKey(t.Context(), secret, perm, org); err != nil {
				t.Fatal(err)
			}
		}
	}
	flush := func() {
		if err := tc.store.FlushUsage(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	// Two days ago: in the week, not in the last 24 hours.
	tc.clock.now = tc.clock.now.Add(-48 * time.Hour)
	verify(calmSecret, "", "", 100)
	flush()
	tc.clock.now = tc.clock.now.Add(48 * time.Hour)
	verify(busySecret, "", "", 30)
	verify(calmSecret, "", "", 4)
	verify(calmSecret, "not-its-permission", "", 6)
	verify(limitedSecret, "", "", 5) // 2 pass, 3 rate limited
	verify(store.NewSecret(), "", acme.ID, 9)
	verify("not-a-key", "", "", 2) // at the root: not Acme's people's business
	flush()

	top := func(d *response, list string) []string {
		return names(d.doc().Find("[data-testid=top-" + list + "] [data-testid=top-key]"))
	}
	day := admin.get("/activity?period=24h")
	if got := top(&day, "used"); !slices.Equal(got, []string{"busy", "calm", "limited"}) {
		t.Fatalf("used most in 24 hours: %v", got)
	}
	if got := top(&day, "refused"); !slices.Equal(got, []string{"calm"}) {
		t.Fatalf("refused most: %v", got)
	}
	if got := top(&day, "limited"); !slices.Equal(got, []string{"limited"}) {
		t.Fatalf("rate-limited most: %v", got)
	}
	if href := day.doc().Find("[data-testid=top-used] [data-testid=top-key]").First().AttrOr("href", ""); href != "/keys/"+busy.ID {
		t.Fatalf("the busiest key links to %q", href)
	}
	if got := day.testid("activity-total"); got != "56 verifications: 36 valid, 3 rate limited, 17 refused." {
		t.Fatalf("the total says %q", got)
	}
	var cells []string
	day.doc().Find("[data-testid=no-key-table] tbody td").Each(func(_ int, c *goquery.Selection) { cells = append(cells, c.Text()) })
	if got := strings.Join(cells, " "); got != "Default 0 2 Default/Acme 9 0" {
		t.Fatalf("refused with no key: %q", got)
	}
	week := admin.get("/activity?period=7d")
	if got := top(&week, "used"); !slices.Equal(got, []string{"calm", "busy", "limited"}) {
		t.Fatalf("used most in 7 days: %v", got)
	}

	res := admin.get("/activity.csv?period=7d")
	wantStatus(t, res, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(res.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[1][0] != calm.ID || strings.Join(rows[1][3:], ",") != "104,0,6,110" || rows[3][0] != limited.ID {
		t.Fatalf("CSV %v", rows)
	}

	// Acme's people see Acme's key and refusals only.
	tc.newUserAt("acme-viewer", store.RoleViewer, acme)
	acmeView := tc.loggedIn("acme-viewer").get("/activity")
	if got := top(&acmeView, "used"); !slices.Equal(got, []string{"limited"}) || strings.Contains(acmeView.Body.String(), "busy") {
		t.Fatalf("Acme sees %v", got)
	}
	if got := acmeView.testid("activity-total"); got != "14 verifications: 2 valid, 3 rate limited, 9 refused." {
		t.Fatalf("Acme's total says %q", got)
	}
	if rows := acmeView.doc().Find("[data-testid=no-key-table] tbody tr").Length(); rows != 1 {
		t.Fatalf("Acme sees %d organizations' refusals, want its own", rows)
	}
	wantStatus(t, admin.get("/activity?period=1y"), http.StatusBadRequest)
}
