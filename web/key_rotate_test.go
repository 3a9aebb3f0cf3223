package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/keydesk/keydesk/store"
)

// createKeyWithSecret makes a key through the store, as admin, and returns
// its secret too.
func (tc *testConsole) createKeyWithSecret(name string) (store.Key, string) {
	tc.t.Helper()
	k, secret, err := tc.store.CreateKey(context.Background(), store.Actor{Username: "admin"},
		store.NewKey{Name: name, Permissions: []string{"chat"}, Enabled: true, Capacity: 120, Frequency: 60})
	if err != nil {
		tc.t.Fatal(err)
	}
	return k, secret
}

// verifyAnswer asks the verification API about a secret.
func verifyAnswer(t *testing.T, tc *testConsole, secret string) map[string]any {
	t.Helper()
	_, out := callVerify(t, tc.h, `{"key": "`+secret+`"}`)
	return out
}

// TestRotateShowsTheNewSecretOnce: rotating from the key's page answers
// with the new secret, uncached, exactly as a creation does; the old
// secret verifies until its grace ends, saying so; the key's page lists
// both and never shows a whole secret.
func TestRotateShowsTheNewSecretOnce(t *testing.T) {
	tc := newTestConsole(t)
	k, old := tc.createKeyWithSecret("rotated")
	cl := tc.loggedIn("manager")
	res := cl.post("/keys/"+k.ID+"/rotate", url.Values{"grace_days": {"7"}})
	wantStatus(t, res, http.StatusCreated)
	if cc := res.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	secret := res.doc().Find(`[data-testid="secret"]`).AttrOr("value", "")
	if !store.WellFormedSecret(secret) || secret == old {
		t.Fatalf("the answer shows %q", secret)
	}
	graceEnd := tc.clock.now.Add(7 * 24 * time.Hour).Format(time.RFC3339)
	if lead := res.testid("rotated-lead"); !strings.Contains(lead, "works until") {
		t.Errorf("the answer says %q", lead)
	}
	if out := verifyAnswer(t, tc, secret); out["valid"] != true || out["grace_until"] != nil || out["id"] != k.ID {
		t.Errorf("the new secret: %v", out)
	}
	if out := verifyAnswer(t, tc, old); out["valid"] != true || out["grace_until"] != graceEnd || out["id"] != k.ID {
		t.Errorf("the old secret in its grace: %v, want grace until %s", out, graceEnd)
	}
	page := cl.get("/keys/" + k.ID)
	wantStatus(t, page, http.StatusOK)
	rows := page.doc().Find(`[data-testid="secret-row"]`)
	if rows.Length() != 2 || !strings.Contains(rows.Eq(0).Text(), "Current") || !strings.Contains(rows.Eq(1).Text(), "In grace until") {
		t.Errorf("the key's secrets: %q", rows.Text())
	}
	for _, path := range []string{"/keys/" + k.ID, "/keys", "/events"} {
		if body := cl.get(path).Body.String(); strings.Contains(body, secret) || strings.Contains(body, old) {
			t.Errorf("%s shows a whole secret", path)
		}
	}

	// Ending the grace refuses the old secret at once.
	wantStatus(t, cl.post("/keys/"+k.ID+"/end-grace", url.Values{}), http.StatusSeeOther)
	if out := verifyAnswer(t, tc, old); out["valid"] != false || out["code"] != store.CodeExpired {
		t.Errorf("the old secret after its grace was ended: %v", out)
	}
	if out := verifyAnswer(t, tc, secret); out["valid"] != true {
		t.Errorf("the new secret after the grace was ended: %v", out)
	}
}

// TestRotateRefusals: a grace out of range or not a number comes back
// beside its field as typed; a viewer may not rotate; a revoked key cannot
// be rotated. None of them changes anything.
func TestRotateRefusals(t *testing.T) {
	tc := newTestConsole(t)
	k, old := tc.createKeyWithSecret("kept")
	cl := tc.loggedIn("admin")
	for _, typed := range []string{"31", "-1", "soon"} {
		res := cl.post("/keys/"+k.ID+"/rotate", url.Values{"grace_days": {typed}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		doc := res.doc()
		if msg := doc.Find("#grace_days-error").Text(); !strings.Contains(msg, "0") || !strings.Contains(msg, "30") {
			t.Errorf("%q: message %q", typed, msg)
		}
		if got := doc.Find("#grace_days").AttrOr("value", ""); got != typed {
			t.Errorf("%q came back as %q", typed, got)
		}
	}
	wantStatus(t, tc.loggedIn("viewer").post("/keys/"+k.ID+"/rotate", url.Values{"grace_days": {"1"}}), http.StatusForbidden)
	// Outside a tenant's scope the key does not exist.
	ctx := context.Background()
	tenant, err := tc.store.CreateOrg(ctx, store.Actor{Username: "admin"}, "Tenant", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.store.CreateUser(ctx, store.Actor{Username: "admin"}, store.NewUser{Username: "tenant-admin", Password: testPassword,
		RoleID: store.RoleAdministrator, Org: tenant.ID}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, tc.loggedIn("tenant-admin").post("/keys/"+k.ID+"/rotate", url.Values{"grace_days": {"1"}}), http.StatusNotFound)
	if _, err := tc.store.RevokeKey(ctx, store.Actor{Username: "admin"}, k.ID); err != nil {
		t.Fatal(err)
	}
	res := cl.post("/keys/"+k.ID+"/rotate", url.Values{"grace_days": {"1"}})
	if res.Code != http.StatusConflict {
		t.Errorf("rotating a revoked key: status %d", res.Code)
	}
	secrets, err := tc.store.KeySecrets(ctx, store.Scope{}, k.ID)
	if err != nil || len(secrets) != 1 || secrets[0].Hint != k.Hint {
		t.Fatalf("after the refusals the key has %+v, %v", secrets, err)
	}
	if out := verifyAnswer(t, tc, old); out["code"] != store.CodeRevoked {
		t.Errorf("the key's one secret: %v", out)
	}
}

// TestBulkRotate: rotating selected keys shows each new secret once
// (uncached, also as CSV text), each verifies, the old ones keep their
// organization's grace, revoked keys are left alone and counted, and a
// Viewer is refused.
func TestBulkRotate(t *testing.T) {
	tc := newTestConsole(t)
	a, oldA := tc.createKeyWithSecret("alpha")
	b, _ := tc.createKeyWithSecret("bravo")
	gone := tc.createKey("gone")
	if _, err := tc.store.RevokeKey(context.Background(), store.SystemActor("test"), gone.ID); err != nil {
		t.Fatal(err)
	}
	viewer := tc.loggedIn("viewer")
	snap := tc.snapshot()
	wantStatus(t, viewer.post("/keys/bulk", url.Values{"action": {"rotate"}, "id": {a.ID}}), http.StatusForbidden)
	if tc.snapshot() != snap {
		t.Fatal("a refused bulk rotation changed something")
	}
	admin := tc.loggedIn("admin")
	res := admin.post("/keys/bulk", url.Values{"action": {"rotate"}, "id": {a.ID, b.ID, gone.ID}})
	wantStatus(t, res, http.StatusCreated)
	if res.Header().Get("Cache-Control") != "no-store" {
		t.Fatal("the page of new secrets may be cached")
	}
	d := res.doc()
	secrets := d.Find("[data-testid=rotated-secret]").Map(func(_ int, s *goquery.Selection) string { return s.Text() })
	if len(secrets) != 2 || !strings.Contains(res.testid("bulk-rotated-lead"), "1 key was left alone") {
		t.Fatalf("rotated %v; lead %q", secrets, res.testid("bulk-rotated-lead"))
	}
	csvText := d.Find("[data-testid=rotated-csv]").Text()
	for _, s := range secrets {
		if out := verifyAnswer(t, tc, s); out["valid"] != true {
			t.Errorf("a new secret does not verify: %v", out)
		}
		if !strings.Contains(csvText, s) {
			t.Errorf("the CSV text lacks %s", s)
		}
	}
	if out := verifyAnswer(t, tc, oldA); out["valid"] != true || out["grace_until"] == nil {
		t.Fatalf("the old secret in its grace: %v", out)
	}
	if got := admin.flash("/keys"); got != "Rotated 2 keys." {
		t.Fatalf("flash %q", got)
	}
	// A bad grace period changes nothing.
	snap = tc.snapshot()
	wantStatus(t, admin.post("/keys/bulk", url.Values{"action": {"rotate"}, "id": {a.ID}, "grace_days": {"31"}}), http.StatusUnprocessableEntity)
	if tc.snapshot() != snap {
		t.Fatal("a refused grace period changed something")
	}
}
