package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/keydesk/keydesk/store"
)

// TestASiblingOrganizationDoesNotExist logs in as an Administrator of Acme
// and walks every route that names a key or a user of Beta, its sibling:
// each answers 404, as for an id that never existed, and nothing changes.
func TestASiblingOrganizationDoesNotExist(t *testing.T) {
	tc := newTestConsole(t)
	acme := tc.newOrg("Acme", "")
	beta := tc.newOrg("Beta", "")
	tc.newUserAt("acme-admin", store.RoleAdministrator, acme)
	betaUser := tc.newUserAt("beta-user", store.RoleViewer, beta)
	betaKey, betaSecret, err := tc.store.CreateKey(context.Background(), store.SystemActor("test"), store.NewKey{
		Name: "beta-key", Permissions: []string{"chat"}, Enabled: true, Capacity: 120, Frequency: 60, Org: beta.ID})
	if err != nil {
		t.Fatal(err)
	}
	ownKey := tc.createKey("acme-key", func(k *store.NewKey) { k.Org = acme.ID })
	cl := tc.loggedIn("acme-admin")

	k, u := "/keys/"+betaKey.ID, "/users/"+itoa64(betaUser.ID)
	before := tc.snapshot()
	for _, r := range []struct {
		method, path string
		form         url.Values
	}{
		{"GET", k, nil},
		{"GET", "/keys/new?copy=" + betaKey.ID, nil},
		{"POST", k + "/enable", nil},
		{"POST", k + "/disable", nil},
		{"POST", k + "/expire", url.Values{"now": {"1"}}},
		{"POST", k + "/expire", url.Values{"expires_at": {"2030-01-01"}}},
		{"POST", k + "/revoke", nil},
		{"POST", k + "/rename", url.Values{"name": {"taken"}}},
		{"POST", k + "/rate-limit", url.Values{"capacity": {"1"}, "frequency": {"1"}}},
		{"POST", k + "/delete", nil},
		{"POST", "/keys/bulk", url.Values{"action": {"revoke"}, "id": {betaKey.ID}}},
		{"POST", "/keys/bulk", url.Values{"action": {"delete"}, "id": {ownKey.ID, betaKey.ID}}},
		{"GET", u, nil},
		{"POST", u + "/role", url.Values{"role": {"3"}}},
		{"POST", u + "/org", url.Values{"org": {acme.ID}}},
		{"POST", u + "/password", url.Values{"password": {"a long new password"}, "confirm": {"a long new password"}}},
		{"POST", u + "/disable", nil},
		{"POST", u + "/enable", nil},
		{"POST", u + "/delete", nil},
	} {
		var res response
		if r.method == "GET" {
			res = cl.get(r.path)
		} else {
			res = cl.post(r.path, r.form)
		}
		if res.Code != http.StatusNotFound {
			t.Errorf("%s %s: status %d, want 404", r.method, r.path, res.Code)
		}
	}
	if tc.snapshot() != before {
		t.Fatal("a request about another organization changed something")
	}
	// Testing the other organization's key tells nothing about it.
	res := cl.post("/keys/test", url.Values{"key": {betaSecret}})
	if code, _ := res.doc().Find(`[data-testid=test-result]`).Attr("data-code"); code != "NOT_FOUND" || strings.Contains(res.Body.String(), "beta-key") {
		t.Fatalf("testing a sibling's key: code %q", code)
	}
	// Lists show only Acme's subtree.
	if body := cl.get("/keys").Body.String(); !strings.Contains(body, "acme-key") || strings.Contains(body, "beta-key") {
		t.Errorf("the key list shows keys outside the organization: acme %v beta %v", strings.Contains(body, "acme-key"), strings.Contains(body, "beta-key"))
	}
	if body := cl.get("/users").Body.String(); !strings.Contains(body, "acme-admin") || strings.Contains(body, "beta-user") || strings.Contains(body, ">admin<") {
		t.Error("the user list shows users outside the organization")
	}
	if body := cl.get("/keys/export.csv").Body.String(); strings.Contains(body, "beta-key") {
		t.Error("the CSV holds keys outside the organization")
	}
}

// TestVerificationNamesAndChecksTheOrganization asks the verification API
// about a key of Acme for Acme, for its sibling and for a switched-off
// Acme.
func TestVerificationNamesAndChecksTheOrganization(t *testing.T) {
	tc := newTestConsole(t)
	ctx := context.Background()
	system := store.SystemActor("test")
	acme := tc.newOrg("Acme", "")
	beta := tc.newOrg("Beta", "")
	_, secret, err := tc.store.CreateKey(ctx, system, store.NewKey{Name: "svc", Permissions: []string{"chat"}, Enabled: true, Capacity: 10, Frequency: 60, Org: acme.ID})
	if err != nil {
		t.Fatal(err)
	}
	body := func(org string) string { return `{"key": "` + secret + `", "org": "` + org + `"}` }
	_, out := callVerify(t, tc.h, body(acme.ID))
	org, _ := out["org"].(map[string]any)
	if out["valid"] != true || org["id"] != acme.ID || org["name"] != "Acme" {
		t.Fatalf("for its own organization: %v", out)
	}
	if _, out := callVerify(t, tc.h, body(beta.ID)); out["valid"] != false || out["code"] != "WRONG_ORG" {
		t.Fatalf("for a sibling: %v", out)
	}
	if _, err := tc.store.SetOrgPolicy(ctx, system, acme.ID, store.Policy{APIKeysEnabled: false}); err != nil {
		t.Fatal(err)
	}
	if _, out := callVerify(t, tc.h, body(acme.ID)); out["valid"] != false || out["code"] != "ORG_DISABLED" {
		t.Fatalf("switched off: %v", out)
	}
}

// TestConsoleSettingsBelongToTheRoot has an Administrator of Acme try to
// change what every tenant shares: roles, the permission catalog and the
// audit log's retention.
func TestConsoleSettingsBelongToTheRoot(t *testing.T) {
	tc := newTestConsole(t)
	ctx := context.Background()
	acme := tc.newOrg("Acme", "")
	tc.newUserAt("acme-admin", store.RoleAdministrator, acme)
	cl := tc.loggedIn("acme-admin")
	before := tc.snapshot()
	for path, form := range map[string]url.Values{
		"/settings":                          {"retention_days": {"1"}},
		"/settings/permissions":              {"name": {"billing"}, "description": {"Billing."}},
		"/settings/permissions/chat/delete":  nil,
		"/roles":                             {"name": {"Tenant role"}, "rights": {"audit.view"}},
		"/roles/" + itoa64(store.RoleViewer): {"name": {"Viewer"}, "rights": {"audit.view"}},
	} {
		if res := cl.post(path, form); res.Code != http.StatusForbidden {
			t.Errorf("POST %s: status %d, want 403", path, res.Code)
		}
	}
	if days, _ := tc.store.EventRetention(ctx); days != 0 || tc.snapshot() != before {
		t.Fatal("a tenant's administrator changed a console setting")
	}
}

// TestExportNamesEachKeysOrganization downloads the keys of Acme and below:
// each row names its organization by path, and an unknown organization is
// refused before anything is sent.
func TestExportNamesEachKeysOrganization(t *testing.T) {
	tc := newTestConsole(t)
	acme := tc.newOrg("Acme", "")
	eu := tc.newOrg("EU", acme.ID)
	tc.createKey("at-root")
	tc.createKey("at-acme", func(k *store.NewKey) { k.Org = acme.ID })
	tc.createKey("at-eu", func(k *store.NewKey) { k.Org = eu.ID })
	cl := tc.loggedIn("admin")
	res := cl.get("/keys/export.csv?org=" + acme.ID)
	wantStatus(t, res, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(res.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows[1:] {
		got = append(got, r[1]+"@"+r[10])
	}
	if strings.Join(got, " ") != "at-acme@Default/Acme at-eu@Default/Acme/EU" {
		t.Fatalf("rows %q", got)
	}
	res = cl.get("/keys/export.csv?org=nosuchorg")
	if res.Code != http.StatusBadRequest || strings.Contains(res.Body.String(), "id,name") {
		t.Fatalf("an unknown organization: %d %.200s", res.Code, res.Body)
	}
}

// TestNewKeysGoToAnOrganization creates keys through the form: in the
// organization chosen, never outside the creator's scope nor where the
// policy forbids, with the reason beside the field.
func TestNewKeysGoToAnOrganization(t *testing.T) {
	tc := newTestConsole(t)
	ctx := context.Background()
	system := store.SystemActor("test")
	acme := tc.newOrg("Acme", "")
	beta := tc.newOrg("Beta", "")
	dark := tc.newOrg("Dark", acme.ID)
	if _, err := tc.store.SetOrgPolicy(ctx, system, dark.ID, store.Policy{APIKeysEnabled: false}); err != nil {
		t.Fatal(err)
	}
	tc.newUserAt("acme-admin", store.RoleAdministrator, acme)
	cl := tc.loggedIn("acme-admin")
	page := cl.get("/keys/new")
	var offered []string
	page.doc().Find(`[data-testid=key-org] option`).Each(func(_ int, o *goquery.Selection) { offered = append(offered, o.Text()) })
	if strings.Join(offered, "|") != "Default/Acme|Default/Acme/Dark" {
		t.Fatalf("offered %q", offered)
	}
	if sel, _ := page.doc().Find(`[data-testid=key-org] option[selected]`).Attr("value"); sel != acme.ID {
		t.Fatalf("selected %q, want the user's own organization", sel)
	}
	form := func(org string) url.Values {
		return url.Values{"name": {"svc"}, "permissions": {"chat"}, "never_expires": {"on"}, "org": {org}}
	}
	before := tc.snapshot()
	for _, org := range []string{beta.ID, dark.ID, "nosuchorg"} {
		res := cl.post("/keys", form(org))
		if msg := res.testid("org-error"); res.Code != http.StatusUnprocessableEntity || msg == "" || res.doc().Find(`[data-testid=name]`).AttrOr("value", "") != "svc" {
			t.Errorf("org %s: status %d, message %q", org, res.Code, msg)
		}
	}
	if tc.snapshot() != before {
		t.Fatal("a refused key was created")
	}
	wantStatus(t, cl.post("/keys", form(acme.ID)), http.StatusCreated)
	page2, err := tc.store.Keys(ctx, store.Scope{}, store.KeyQuery{KeyFilter: store.KeyFilter{Search: "svc"}, Sort: store.SortName})
	if err != nil || page2.Total != 1 || page2.Keys[0].OrgID != acme.ID {
		t.Fatalf("the key: %+v, %v", page2.Keys, err)
	}
}

// TestKeyListByOrganization lists keys at and below the organization
// chosen in the menu, with an Organization column.
func TestKeyListByOrganization(t *testing.T) {
	tc := newTestConsole(t)
	acme := tc.newOrg("Acme", "")
	eu := tc.newOrg("EU", acme.ID)
	tc.createKey("at-root")
	tc.createKey("at-acme", func(k *store.NewKey) { k.Org = acme.ID })
	tc.createKey("at-eu", func(k *store.NewKey) { k.Org = eu.ID })
	cl := tc.loggedIn("admin")
	rows := func(res response) []string {
		var out []string
		res.doc().Find(`[data-testid=key-row]`).Each(func(_ int, r *goquery.Selection) {
			out = append(out, r.Find(`[data-testid=key-name]`).Text()+"@"+r.Find(`[data-testid=key-org]`).Text())
		})
		return out
	}
	page := cl.get("/keys")
	if got := strings.Join(rows(page), " "); got != "at-acme@Default/Acme at-eu@Default/Acme/EU at-root@Default" {
		t.Fatalf("every key: %q", got)
	}
	if n := page.doc().Find(`[data-testid=key-org-menu] option`).Length(); n != 3 {
		t.Fatalf("the menu offers %d choices", n)
	}
	for _, htmx := range []bool{false, true} {
		var res response
		if htmx {
			res = cl.htmx("/keys?org=" + acme.ID)
		} else {
			res = cl.get("/keys?org=" + acme.ID)
		}
		if got := strings.Join(rows(res), " "); got != "at-acme@Default/Acme at-eu@Default/Acme/EU" {
			t.Fatalf("Acme and below (htmx %v): %q", htmx, got)
		}
	}
	wantStatus(t, cl.get("/keys?org=nosuchorg"), http.StatusBadRequest)
	euKey := tc.createKey("detailed", func(k *store.NewKey) { k.Org = eu.ID })
	if got := cl.get("/keys/" + euKey.ID).testid("key-organization"); !strings.HasPrefix(got, "Default/Acme/EU") {
		t.Fatalf("the details name the organization %q", got)
	}
	// A single organization needs no column and no menu.
	solo := newTestConsole(t)
	solo.createKey("only")
	page = solo.loggedIn("admin").get("/keys")
	if page.doc().Find(`[data-testid=key-org], [data-testid=key-org-menu]`).Length() != 0 {
		t.Fatal("one organization, and yet a column or a menu")
	}
}

// TestUsersGoToAnOrganization creates a user in an organization chosen on
// the form, and moves them with the user page's form.
func TestUsersGoToAnOrganization(t *testing.T) {
	tc := newTestConsole(t)
	ctx := context.Background()
	acme := tc.newOrg("Acme", "")
	beta := tc.newOrg("Beta", "")
	cl := tc.loggedIn("admin")
	if n := cl.get("/users/new").doc().Find(`[data-testid=user-org] option`).Length(); n != 3 {
		t.Fatalf("the form offers %d organizations", n)
	}
	res := cl.post("/users", url.Values{"username": {"tenant"}, "role": {itoa64(store.RoleViewer)}, "org": {acme.ID},
		"password": {testPassword}, "confirm": {testPassword}})
	wantStatus(t, res, http.StatusSeeOther)
	users, _ := tc.store.Users(ctx, store.Scope{}, "tenant")
	if len(users) != 1 || users[0].OrgID != acme.ID {
		t.Fatalf("created %+v", users)
	}
	page := cl.get("/users/" + itoa64(users[0].ID))
	if got := page.testid("user-organization"); got != "Default/Acme" {
		t.Fatalf("the user's page names %q", got)
	}
	if sel, _ := page.doc().Find(`[data-testid=org-form] option[selected]`).Attr("value"); sel != acme.ID {
		t.Fatalf("the move form starts at %q", sel)
	}
	wantStatus(t, cl.post("/users/"+itoa64(users[0].ID)+"/org", url.Values{"org": {beta.ID}}), http.StatusSeeOther)
	if u, _ := tc.store.User(ctx, store.Scope{}, users[0].ID); u.OrgID != beta.ID {
		t.Fatalf("moved to %q", u.OrgID)
	}
	res = cl.post("/users/"+itoa64(users[0].ID)+"/org", url.Values{"org": {"nosuchorg"}})
	if res.Code != http.StatusUnprocessableEntity || res.testid("org-error") == "" {
		t.Fatalf("an unknown organization: %d %q", res.Code, res.testid("org-error"))
	}
}

// newOrg creates an organization under parentID ("" for the root).
func (tc *testConsole) newOrg(name, parentID string) store.Org {
	tc.t.Helper()
	o, err := tc.store.CreateOrg(context.Background(), store.SystemActor("test"), name, parentID)
	if err != nil {
		tc.t.Fatal(err)
	}
	return o
}

// newUserAt creates a user with a role at an organization, and the test
// password.
func (tc *testConsole) newUserAt(username string, role int64, org store.Org) store.User {
	tc.t.Helper()
	u, err := tc.store.CreateUser(context.Background(), store.SystemActor("test"),
		store.NewUser{Username: username, Password: testPassword, RoleID: role, Org: org.ID})
	if err != nil {
		tc.t.Fatal(err)
	}
	return u
}

// TestKeyFormOffersNoNeverUnderAMaximumExpiry opens the New API key form
// as a user of an organization whose keys must expire within 30 days.
func TestKeyFormOffersNoNeverUnderAMaximumExpiry(t *testing.T) {
	tc := newTestConsole(t)
	acme := tc.newOrg("Acme", "")
	if _, err := tc.store.SetOrgPolicy(context.Background(), store.SystemActor("test"), acme.ID, store.Policy{APIKeysEnabled: true, MaxExpiryDays: 30}); err != nil {
		t.Fatal(err)
	}
	tc.newUserAt("acme-admin", store.RoleAdministrator, acme)
	page := tc.loggedIn("acme-admin").get("/keys/new")
	d := page.doc()
	if _, hidden := d.Find(`[data-never-expires]`).Attr("hidden"); !hidden {
		t.Fatal("\"Will never expire\" is offered")
	}
	if d.Find(`[data-testid=never-expires][checked]`).Length() != 0 {
		t.Fatal("\"Will never expire\" is ticked")
	}
	if hint := page.testid("max-expiry-hint"); !strings.Contains(hint, "within 30 days") {
		t.Fatalf("hint %q", hint)
	}
	// At the root, with no maximum, "never" is there as before.
	root := tc.loggedIn("admin").get("/keys/new").doc()
	if _, hidden := root.Find(`[data-never-expires]`).Attr("hidden"); hidden {
		t.Fatal("no maximum, and yet no \"never\"")
	}
}

// TestSharedListsShowOnlyTheScope looks at what tenants share with others
// (roles, the permission catalog, the creator and actor menus) as an
// Administrator of Acme: nobody and nothing of Beta shows.
func TestSharedListsShowOnlyTheScope(t *testing.T) {
	tc := newTestConsole(t)
	acme, beta := tc.newOrg("Acme", ""), tc.newOrg("Beta", "")
	tc.newUserAt("acme-admin", store.RoleAdministrator, acme)
	betaAdmin := tc.newUserAt("beta-secret-admin", store.RoleAdministrator, beta)
	if _, _, err := tc.store.CreateKey(context.Background(), store.Actor{UserID: betaAdmin.ID, Username: betaAdmin.Username, Scope: betaAdmin.Scope()},
		store.NewKey{Name: "beta-key", Permissions: []string{"securemail"}, Capacity: 1, Frequency: 1, Org: beta.ID}); err != nil {
		t.Fatal(err)
	}
	tc.loggedIn("beta-secret-admin") // an event of Beta's
	cl := tc.loggedIn("acme-admin")
	for _, path := range []string{"/roles", "/roles/" + itoa64(store.RoleAdministrator), "/keys", "/events", "/users"} {
		if body := cl.get(path).Body.String(); strings.Contains(body, "beta-secret-admin") {
			t.Errorf("%s names a user of another organization", path)
		}
	}
	var counts []string
	cl.get("/settings").doc().Find(`table.catalog td[data-label=Keys]`).Each(func(_ int, td *goquery.Selection) {
		counts = append(counts, td.Text())
	})
	if strings.Join(counts, " ") != "0 0" {
		t.Errorf("the catalog counts %q keys for chat and securemail; Acme has none", counts)
	}
}
