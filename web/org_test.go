package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/keydesk/keydesk/store"
)

// orgFixture is Default/Acme/EU and Default/Beta, with an Administrator
// of Acme ("acme-admin"), a user who manages organizations only
// ("org-maker") and one who sets policy only ("policy-maker").
type orgFixture struct {
	root, acme, eu, beta store.Org
}

func (tc *testConsole) orgFixture() orgFixture {
	tc.t.Helper()
	ctx := context.Background()
	system := store.SystemActor("test")
	var f orgFixture
	orgs, err := tc.store.Orgs(ctx, store.Scope{})
	if err != nil {
		tc.t.Fatal(err)
	}
	f.root = orgs[0]
	mk := func(name, parent string) store.Org {
		o, err := tc.store.CreateOrg(ctx, system, name, parent)
		if err != nil {
			tc.t.Fatal(err)
		}
		return o
	}
	f.acme = mk("Acme", f.root.ID)
	f.eu = mk("EU", f.acme.ID)
	f.beta = mk("Beta", f.root.ID)
	role := func(name string, rights ...store.Right) int64 {
		r, err := tc.store.CreateRole(ctx, system, store.RoleInput{Name: name, Rights: rights})
		if err != nil {
			tc.t.Fatal(err)
		}
		return r.ID
	}
	for _, u := range []store.NewUser{
		{Username: "acme-admin", RoleID: store.RoleAdministrator, Org: f.acme.ID},
		{Username: "org-maker", RoleID: role("Org maker", store.RightOrgs)},
		{Username: "policy-maker", RoleID: role("Policy maker", store.RightSettings)},
	} {
		u.Password = testPassword
		if _, err := tc.store.CreateUser(ctx, system, u); err != nil {
			tc.t.Fatal(err)
		}
	}
	return f
}

// orgSnapshot summarises the organization tree, to prove that a refused
// request changed nothing.
func (tc *testConsole) orgSnapshot() string {
	tc.t.Helper()
	orgs, err := tc.store.Orgs(context.Background(), store.Scope{})
	if err != nil {
		tc.t.Fatal(err)
	}
	var b strings.Builder
	for _, o := range orgs {
		fmt.Fprintf(&b, "%s %s %s %+v %v\n", o.ID, o.ParentID, o.Path, o.Policy, o.UpdatedAt)
	}
	return b.String() + tc.snapshot()
}

func (tc *testConsole) org(id string) store.Org {
	tc.t.Helper()
	o, err := tc.store.Org(context.Background(), store.Scope{}, id)
	if err != nil {
		tc.t.Fatal(err)
	}
	return o
}

// flash returns the flash messages of the next page the client opens.
func (cl *client) flash(path string) string {
	return cl.get(path).testid("flash")
}

func wantLocation(t *testing.T, r response, want string) {
	t.Helper()
	if got := r.Header().Get("Location"); got != want {
		t.Fatalf("Location %q, want %q", got, want)
	}
}

// asHTMX is a request header pair as htmx sends it, or none.
func asHTMX(htmx bool) []string {
	if htmx {
		return []string{"HX-Request", "true"}
	}
	return nil
}

func TestOrgListPage(t *testing.T) {
	tc := newTestConsole(t)
	admin := tc.loggedIn("admin")
	root, err := tc.store.Orgs(context.Background(), store.Scope{})
	if err != nil {
		t.Fatal(err)
	}

	// Only the root: its id, the empty state and the form.
	for _, htmx := range []bool{false, true} {
		res := admin.get("/orgs", asHTMX(htmx)...)
		wantStatus(t, res, http.StatusOK)
		d := res.doc()
		if got := res.testid("org-id"); got != root[0].ID {
			t.Fatalf("root id shown %q, want %q", got, root[0].ID)
		}
		if d.Find(`[data-testid=empty-state]`).Length() != 1 || d.Find(`[data-testid=org-form]`).Length() != 1 {
			t.Fatal("no empty state or no New organization form")
		}
		if sel := d.Find(`[data-testid=parent-select] option[selected]`); sel.AttrOr("value", "") != root[0].ID {
			t.Fatalf("the parent menu starts at %q, want the user's own organization", sel.AttrOr("value", ""))
		}
	}

	f := tc.orgFixture()
	tc.createKey("acme-key", func(k *store.NewKey) { k.Org = f.acme.ID })
	res := admin.get("/orgs")
	d := res.doc()
	if d.Find(`[data-testid=empty-state]`).Length() != 0 {
		t.Fatal("the empty state shows beside organizations")
	}
	var rows []string
	d.Find(`[data-testid=org-row]`).Each(func(_ int, s *goquery.Selection) {
		rows = append(rows, strings.Join([]string{
			s.Find(`[data-testid=org-name]`).Text(), s.AttrOr("data-depth", ""),
			s.Find(`[data-testid=org-name]`).AttrOr("href", ""),
			strings.TrimSpace(s.Find(`[data-testid=org-keys]`).Text()),
		}, " "))
	})
	want := []string{
		"Default 0 /orgs/" + f.root.ID + " 0",
		"Acme 1 /orgs/" + f.acme.ID + " 1",
		"EU 2 /orgs/" + f.eu.ID + " 0",
		"Beta 1 /orgs/" + f.beta.ID + " 0",
	}
	if strings.Join(rows, "|") != strings.Join(want, "|") {
		t.Fatalf("rows\n%q\nwant\n%q", rows, want)
	}

	// Those who set policy see the tree, without the form; others get 403.
	if d := tc.loggedIn("policy-maker").get("/orgs").doc(); d.Find(`[data-testid=org-row]`).Length() != 4 || d.Find(`[data-testid=org-form]`).Length() != 0 {
		t.Fatal("policy-maker: wrong rows or a form they cannot use")
	}
	for _, name := range []string{"viewer", "manager"} {
		wantStatus(t, tc.loggedIn(name).get("/orgs"), http.StatusForbidden)
	}

	// A tenant sees its subtree only.
	res = tc.loggedIn("acme-admin").get("/orgs")
	body := res.Body.String()
	if !strings.Contains(body, f.acme.ID) || !strings.Contains(body, f.eu.ID) || strings.Contains(body, f.beta.ID) || strings.Contains(body, f.root.ID) {
		t.Fatal("the tenant's list shows organizations outside its scope")
	}
}

func TestCreateOrg(t *testing.T) {
	tc := newTestConsole(t)
	f := tc.orgFixture()
	for _, htmx := range []bool{false, true} {
		t.Run(fmt.Sprint("htmx=", htmx), func(t *testing.T) {
			admin := tc.loggedIn("admin")
			name := "Team" + fmt.Sprint(htmx)
			res := admin.post("/orgs", url.Values{"name": {" " + name + " "}, "parent_id": {f.acme.ID}}, asHTMX(htmx)...)
			wantStatus(t, res, http.StatusSeeOther)
			wantLocation(t, res, "/orgs")
			if got := admin.flash("/orgs"); got != "Organization "+name+" created." {
				t.Fatalf("flash %q", got)
			}
			o, err := tc.store.OrgByPath(context.Background(), store.Scope{}, "Default/Acme/"+name)
			if err != nil {
				t.Fatal(err)
			}
			if o.ParentID != f.acme.ID {
				t.Fatalf("created under %s", o.ParentID)
			}
		})
	}

	// Without a parent, under the user's own organization.
	acmeAdmin := tc.loggedIn("acme-admin")
	wantStatus(t, acmeAdmin.post("/orgs", url.Values{"name": {"Sales"}}), http.StatusSeeOther)
	if _, err := tc.store.OrgByPath(context.Background(), store.Scope{}, "Default/Acme/Sales"); err != nil {
		t.Fatal("no parent did not mean the user's own organization:", err)
	}

	for _, bad := range []struct {
		name        string
		user        string
		form        url.Values
		field, want string
	}{
		{"empty name", "admin", url.Values{"name": {"  "}, "parent_id": {f.root.ID}}, "name", "Enter a name"},
		{"slash", "admin", url.Values{"name": {"A/B"}, "parent_id": {f.root.ID}}, "name", "cannot contain /"},
		{"too long", "admin", url.Values{"name": {strings.Repeat("x", 61)}, "parent_id": {f.root.ID}}, "name", "at most 60"},
		{"taken", "admin", url.Values{"name": {"acme"}, "parent_id": {f.root.ID}}, "name", "already an organization"},
		{"unknown parent", "admin", url.Values{"name": {"Lost"}, "parent_id": {"nosuchorg"}}, "parent_id", "no such organization"},
		{"parent outside the scope", "acme-admin", url.Values{"name": {"Lost"}, "parent_id": {f.beta.ID}}, "parent_id", "no such organization"},
	} {
		for _, htmx := range []bool{false, true} {
			t.Run(fmt.Sprint(bad.name, "/htmx=", htmx), func(t *testing.T) {
				cl := tc.loggedIn(bad.user)
				before := tc.orgSnapshot()
				res := cl.post("/orgs", bad.form, asHTMX(htmx)...)
				wantStatus(t, res, http.StatusUnprocessableEntity)
				if got := res.testid(bad.field + "-error"); !strings.Contains(got, bad.want) {
					t.Fatalf("beside %s: %q, want %q", bad.field, got, bad.want)
				}
				if got := res.doc().Find(`[data-testid=org-name-input]`).AttrOr("value", "?"); got != bad.form.Get("name") {
					t.Fatalf("the name came back as %q, want %q as typed", got, bad.form.Get("name"))
				}
				if tc.orgSnapshot() != before {
					t.Fatal("a refused create changed something")
				}
			})
		}
	}
}

func TestUpdateOrg(t *testing.T) {
	tc := newTestConsole(t)
	f := tc.orgFixture()
	admin := tc.loggedIn("admin")

	// The page: facts and both forms.
	for _, htmx := range []bool{false, true} {
		res := admin.get("/orgs/"+f.eu.ID, asHTMX(htmx)...)
		wantStatus(t, res, http.StatusOK)
		if res.testid("org-path") != "Default/Acme/EU" || res.testid("org-id") != f.eu.ID || res.testid("org-parent") != "Default/Acme" {
			t.Fatalf("facts: %q %q %q", res.testid("org-path"), res.testid("org-id"), res.testid("org-parent"))
		}
		d := res.doc()
		if d.Find(`[data-testid=org-form]`).Length() != 1 || d.Find(`[data-testid=policy-form]`).Length() != 1 {
			t.Fatal("the administrator is missing a form")
		}
		// Neither EU nor anything below it is a place to move it to.
		if !d.Find(`[data-testid=parent-select] option[value="` + f.eu.ID + `"]`).Is("[disabled]") {
			t.Fatal("EU is offered as its own parent")
		}
	}

	res := admin.post("/orgs/"+f.eu.ID, url.Values{"name": {"Europe"}, "parent_id": {f.beta.ID}})
	wantStatus(t, res, http.StatusSeeOther)
	wantLocation(t, res, "/orgs/"+f.eu.ID)
	if got := admin.flash("/orgs"); got != "Organization Default/Beta/Europe saved." {
		t.Fatalf("flash %q", got)
	}
	if o := tc.org(f.eu.ID); o.Path != "Default/Beta/Europe" {
		t.Fatalf("path %q after rename and move", o.Path)
	}
	// The root can be renamed.
	wantStatus(t, admin.post("/orgs/"+f.root.ID, url.Values{"name": {"Everyone"}}), http.StatusSeeOther)
	if o := tc.org(f.root.ID); o.Name != "Everyone" {
		t.Fatalf("the root is named %q", o.Name)
	}

	for _, bad := range []struct {
		name        string
		id          string
		form        url.Values
		field, want string
	}{
		{"into itself", f.acme.ID, url.Values{"name": {"Acme"}, "parent_id": {f.acme.ID}}, "parent_id", "cannot move into itself"},
		{"into its own subtree", f.beta.ID, url.Values{"name": {"Beta renamed"}, "parent_id": {f.eu.ID}}, "parent_id", "cannot move into itself or below itself"},
		{"unknown parent", f.acme.ID, url.Values{"name": {"Acme 2"}, "parent_id": {"nosuchorg"}}, "parent_id", "no such organization"},
		{"name taken", f.acme.ID, url.Values{"name": {"BETA"}, "parent_id": {f.root.ID}}, "name", "already an organization"},
		{"empty name", f.acme.ID, url.Values{"name": {""}, "parent_id": {f.root.ID}}, "name", "Enter a name"},
	} {
		for _, htmx := range []bool{false, true} {
			t.Run(fmt.Sprint(bad.name, "/htmx=", htmx), func(t *testing.T) {
				before := tc.orgSnapshot()
				res := admin.post("/orgs/"+bad.id, bad.form, asHTMX(htmx)...)
				wantStatus(t, res, http.StatusUnprocessableEntity)
				if got := res.testid(bad.field + "-error"); !strings.Contains(got, bad.want) {
					t.Fatalf("beside %s: %q, want %q", bad.field, got, bad.want)
				}
				d := res.doc()
				if got := d.Find(`[data-testid=org-name-input]`).AttrOr("value", "?"); got != bad.form.Get("name") {
					t.Fatalf("the name came back as %q, want %q", got, bad.form.Get("name"))
				}
				if got := d.Find(`[data-testid=parent-select] option[selected]`).AttrOr("value", ""); bad.form.Get("parent_id") != "nosuchorg" && got != bad.form.Get("parent_id") {
					t.Fatalf("the parent came back as %q, want %q", got, bad.form.Get("parent_id"))
				}
				if tc.orgSnapshot() != before {
					t.Fatal("a refused change changed something")
				}
			})
		}
	}

	// A tenant cannot rename or move its own organization, nor reach
	// another.
	acmeAdmin := tc.loggedIn("acme-admin")
	if d := acmeAdmin.get("/orgs/" + f.acme.ID).doc(); d.Find(`[data-testid=org-form]`).Length() != 0 || d.Find(`[data-testid=own-org-note]`).Length() != 1 {
		t.Fatal("the tenant is offered to rename or move its own organization")
	}
	before := tc.orgSnapshot()
	wantStatus(t, acmeAdmin.post("/orgs/"+f.acme.ID, url.Values{"name": {"Acme"}, "parent_id": {f.beta.ID}}), http.StatusForbidden)
	wantStatus(t, acmeAdmin.post("/orgs/"+f.acme.ID, url.Values{"name": {"Beta"}}), http.StatusForbidden)
	if tc.orgSnapshot() != before {
		t.Fatal("the tenant moved its own organization")
	}
}

func TestOrgPolicy(t *testing.T) {
	tc := newTestConsole(t)
	f := tc.orgFixture()
	admin := tc.loggedIn("admin")

	res := admin.post("/orgs/"+f.acme.ID+"/policy", url.Values{"api_keys_enabled": {"on"}, "max_expiry_days": {"90"}, "max_keys_per_user": {"10"}})
	wantStatus(t, res, http.StatusSeeOther)
	wantLocation(t, res, "/orgs/"+f.acme.ID)
	if got := admin.flash("/orgs"); got != "Policy of Default/Acme saved." {
		t.Fatalf("flash %q", got)
	}
	if p := tc.org(f.acme.ID).Policy; p != (store.Policy{APIKeysEnabled: true, MaxExpiryDays: 90, MaxKeysPerUser: 10}) {
		t.Fatalf("policy %+v", p)
	}
	// An absent checkbox is off, an empty number no limit of its own.
	wantStatus(t, admin.post("/orgs/"+f.eu.ID+"/policy", url.Values{"max_expiry_days": {"30"}, "max_keys_per_user": {""}}), http.StatusSeeOther)
	eu := tc.org(f.eu.ID)
	if eu.Policy != (store.Policy{MaxExpiryDays: 30}) || eu.Effective != (store.Policy{MaxExpiryDays: 30, MaxKeysPerUser: 10}) {
		t.Fatalf("EU policy %+v, effective %+v", eu.Policy, eu.Effective)
	}
	// The page says what applies and where it comes from.
	res = admin.get("/orgs/" + f.eu.ID)
	if res.testid("effective-keys") != "Off (set here)" || res.testid("effective-expiry") != "30 days (set here)" ||
		res.testid("effective-keys-per-user") != "10 keys (set by Default/Acme)" || res.testid("keys-off-banner") == "" {
		t.Fatalf("effective policy: %q, %q, %q", res.testid("effective-keys"), res.testid("effective-expiry"), res.testid("effective-keys-per-user"))
	}
	if d := res.doc(); d.Find(`[data-testid=api-keys-enabled]`).Is("[checked]") || d.Find(`[data-testid=max-keys-per-user]`).AttrOr("value", "?") != "" {
		t.Fatal("the form does not show EU's own settings")
	}

	for _, bad := range []struct {
		name        string
		id          string
		form        url.Values
		field, want string
	}{
		{"looser expiry than the parent", f.eu.ID, url.Values{"api_keys_enabled": {"on"}, "max_expiry_days": {"120"}, "max_keys_per_user": {"5"}}, "max_expiry_days", "Default/Acme allows at most 90 days"},
		{"more keys than the parent", f.eu.ID, url.Values{"api_keys_enabled": {"on"}, "max_expiry_days": {"30"}, "max_keys_per_user": {"11"}}, "max_keys_per_user", "Default/Acme allows at most 10 keys per user"},
		{"over 1,000 keys", f.beta.ID, url.Values{"api_keys_enabled": {"on"}, "max_keys_per_user": {"1001"}}, "max_keys_per_user", "from 1 to 1,000"},
		{"zero keys", f.beta.ID, url.Values{"api_keys_enabled": {"on"}, "max_keys_per_user": {"0"}}, "max_keys_per_user", "from 1 to 1,000"},
		{"not a number", f.beta.ID, url.Values{"api_keys_enabled": {"on"}, "max_expiry_days": {"ninety"}}, "max_expiry_days", "Enter a number of days"},
	} {
		for _, htmx := range []bool{false, true} {
			t.Run(fmt.Sprint(bad.name, "/htmx=", htmx), func(t *testing.T) {
				before := tc.orgSnapshot()
				res := admin.post("/orgs/"+bad.id+"/policy", bad.form, asHTMX(htmx)...)
				wantStatus(t, res, http.StatusUnprocessableEntity)
				if got := res.testid(bad.field + "-error"); !strings.Contains(got, bad.want) {
					t.Fatalf("beside %s: %q, want %q", bad.field, got, bad.want)
				}
				d := res.doc()
				if !d.Find(`[data-testid=api-keys-enabled]`).Is("[checked]") ||
					d.Find(`[data-testid=max-expiry-days]`).AttrOr("value", "?") != bad.form.Get("max_expiry_days") ||
					d.Find(`[data-testid=max-keys-per-user]`).AttrOr("value", "?") != bad.form.Get("max_keys_per_user") {
					t.Fatal("the policy form did not come back as typed")
				}
				if tc.orgSnapshot() != before {
					t.Fatal("a refused policy changed something")
				}
			})
		}
	}

	// A tenant's own policy is set from above: no form, and a forged post
	// is refused. Below it, the tenant sets policy.
	acmeAdmin := tc.loggedIn("acme-admin")
	if d := acmeAdmin.get("/orgs/" + f.acme.ID).doc(); d.Find(`[data-testid=policy-form]`).Length() != 0 || d.Find(`[data-testid=own-policy-note]`).Length() != 1 {
		t.Fatal("the tenant is offered to set its own policy")
	}
	before := tc.orgSnapshot()
	wantStatus(t, acmeAdmin.post("/orgs/"+f.acme.ID+"/policy", url.Values{"api_keys_enabled": {"on"}}), http.StatusForbidden)
	if tc.orgSnapshot() != before {
		t.Fatal("the tenant changed its own policy")
	}
	wantStatus(t, acmeAdmin.post("/orgs/"+f.eu.ID+"/policy", url.Values{"max_expiry_days": {"7"}}), http.StatusSeeOther)
}

func TestDeleteOrg(t *testing.T) {
	tc := newTestConsole(t)
	f := tc.orgFixture()
	admin := tc.loggedIn("admin")
	tc.createKey("beta-key", func(k *store.NewKey) { k.Org = f.beta.ID })

	// Not empty: the page says why, and offers no Delete.
	res := admin.get("/orgs/" + f.acme.ID)
	if !strings.Contains(res.testid("delete-blocked"), "It holds 0 keys, 1 user and 1 organization.") || res.doc().Find(`[data-testid=delete-org]`).Length() != 0 {
		t.Fatalf("blocked delete: %q", res.testid("delete-blocked"))
	}
	for _, bad := range []struct{ name, id, want string }{
		{"organizations and users below", f.acme.ID, "Default/Acme still holds 0 keys, 1 user and 1 organization"},
		{"a key", f.beta.ID, "Default/Beta still holds 1 key"},
		{"the root", f.root.ID, "root organization cannot be deleted"},
	} {
		for _, htmx := range []bool{false, true} {
			t.Run(fmt.Sprint(bad.name, "/htmx=", htmx), func(t *testing.T) {
				before := tc.orgSnapshot()
				res := admin.post("/orgs/"+bad.id+"/delete", nil, asHTMX(htmx)...)
				wantStatus(t, res, http.StatusConflict)
				if got := res.testid("delete-error"); !strings.Contains(got, bad.want) {
					t.Fatalf("beside Delete: %q, want %q", got, bad.want)
				}
				if tc.orgSnapshot() != before {
					t.Fatal("a refused delete changed something")
				}
			})
		}
	}

	// Empty: Delete asks first, then goes.
	res = admin.get("/orgs/" + f.eu.ID)
	if form := res.doc().Find(`form:has([data-testid=delete-org])`); !strings.Contains(form.AttrOr("data-confirm-title", ""), "Default/Acme/EU") {
		t.Fatal("Delete does not ask for confirmation")
	}
	res = admin.post("/orgs/"+f.eu.ID+"/delete", nil)
	wantStatus(t, res, http.StatusSeeOther)
	wantLocation(t, res, "/orgs")
	if got := admin.flash("/orgs"); got != "Organization Default/Acme/EU deleted." {
		t.Fatalf("flash %q", got)
	}
	wantStatus(t, admin.get("/orgs/"+f.eu.ID), http.StatusNotFound)
}

// TestOrgsOutsideTheScope: for an Administrator of Acme, Beta and the root
// do not exist; every route about them answers 404 and changes nothing.
func TestOrgsOutsideTheScope(t *testing.T) {
	tc := newTestConsole(t)
	f := tc.orgFixture()
	cl := tc.loggedIn("acme-admin")
	before := tc.orgSnapshot()
	for _, id := range []string{f.beta.ID, f.root.ID, "nosuchorg"} {
		for _, r := range []struct {
			method, path string
			form         url.Values
		}{
			{"GET", "/orgs/" + id, nil},
			{"POST", "/orgs/" + id, url.Values{"name": {"Taken over"}}},
			{"POST", "/orgs/" + id + "/policy", url.Values{"max_keys_per_user": {"1"}}},
			{"POST", "/orgs/" + id + "/delete", nil},
		} {
			for _, htmx := range []bool{false, true} {
				var res response
				if r.method == "GET" {
					res = cl.get(r.path, asHTMX(htmx)...)
				} else {
					res = cl.post(r.path, r.form, asHTMX(htmx)...)
				}
				if res.Code != http.StatusNotFound {
					t.Errorf("%s %s (htmx %v): status %d, want 404", r.method, r.path, htmx, res.Code)
				}
				if htmx && res.Header().Get("HX-Retarget") != "#flash" {
					t.Errorf("%s %s: htmx gets the page, not a message", r.method, r.path)
				}
			}
		}
	}
	if tc.orgSnapshot() != before {
		t.Fatal("a request about another organization changed something")
	}
}

// TestOrgRights: each route needs its right; a refusal is 403 and changes
// nothing.
func TestOrgRights(t *testing.T) {
	tc := newTestConsole(t)
	f := tc.orgFixture()
	for _, r := range []struct {
		user, method, path string
		form               url.Values
		want               int
	}{
		{"org-maker", "GET", "/orgs/" + f.acme.ID, nil, http.StatusOK},
		{"org-maker", "POST", "/orgs", url.Values{"name": {"Made"}}, http.StatusSeeOther},
		{"org-maker", "POST", "/orgs/" + f.acme.ID + "/policy", url.Values{"max_keys_per_user": {"1"}}, http.StatusForbidden},
		{"policy-maker", "GET", "/orgs/" + f.acme.ID, nil, http.StatusOK},
		{"policy-maker", "POST", "/orgs", url.Values{"name": {"Made 2"}}, http.StatusForbidden},
		{"policy-maker", "POST", "/orgs/" + f.acme.ID, url.Values{"name": {"Renamed"}}, http.StatusForbidden},
		{"policy-maker", "POST", "/orgs/" + f.eu.ID + "/delete", nil, http.StatusForbidden},
		{"policy-maker", "POST", "/orgs/" + f.acme.ID + "/policy", url.Values{"max_keys_per_user": {"3"}}, http.StatusSeeOther},
		{"manager", "GET", "/orgs/" + f.acme.ID, nil, http.StatusForbidden},
		{"viewer", "POST", "/orgs/" + f.eu.ID + "/delete", nil, http.StatusForbidden},
	} {
		cl := tc.loggedIn(r.user)
		before := tc.orgSnapshot()
		var res response
		if r.method == "GET" {
			res = cl.get(r.path)
		} else {
			res = cl.post(r.path, r.form)
		}
		if res.Code != r.want {
			t.Errorf("%s %s as %s: status %d, want %d", r.method, r.path, r.user, res.Code, r.want)
		}
		if r.want == http.StatusForbidden && tc.orgSnapshot() != before {
			t.Errorf("a refused %s %s changed something", r.method, r.path)
		}
	}
	// Pages hide what the user cannot do.
	if d := tc.loggedIn("org-maker").get("/orgs/" + f.eu.ID).doc(); d.Find(`[data-testid=policy-form]`).Length() != 0 || d.Find(`[data-testid=org-form]`).Length() != 1 {
		t.Error("org-maker: wrong forms")
	}
	if d := tc.loggedIn("policy-maker").get("/orgs/" + f.eu.ID).doc(); d.Find(`[data-testid=policy-form]`).Length() != 1 || d.Find(`[data-testid=org-form]`).Length() != 0 || d.Find(`[data-testid=delete-org]`).Length() != 0 {
		t.Error("policy-maker: wrong forms")
	}
}

// TestOrgSecretPolicy: recoverable keys, the rotation schedule and the
// grace period are saved from the policy form, said on the page with
// where they come from, refused beside their fields as typed, and the
// grace is what a key's Rotate form offers.
func TestOrgSecretPolicy(t *testing.T) {
	tc := newTestConsole(t)
	f := tc.orgFixture()
	admin := tc.loggedIn("admin")
	wantStatus(t, admin.post("/orgs/"+f.acme.ID+"/policy", url.Values{"api_keys_enabled": {"on"},
		"recoverable_keys": {"on"}, "rotate_every_days": {"365"}, "grace_days": {"7"}}), http.StatusSeeOther)
	want := store.Policy{APIKeysEnabled: true, RecoverableKeys: true, RotateEveryDays: 365, GraceDays: 7, GraceSet: true}
	if p := tc.org(f.acme.ID).Policy; p != want {
		t.Fatalf("policy %+v, want %+v", p, want)
	}
	// A grace of 0 is a setting, not an empty field.
	wantStatus(t, admin.post("/orgs/"+f.eu.ID+"/policy", url.Values{"api_keys_enabled": {"on"}, "grace_days": {"0"}}), http.StatusSeeOther)
	res := admin.get("/orgs/" + f.eu.ID)
	if res.testid("effective-recoverable") != "On (set by Default/Acme)" || res.testid("effective-rotate-every") != "Every 365 days (set by Default/Acme)" ||
		res.testid("effective-grace") != "0 days (set here)" {
		t.Fatalf("effective: %q, %q, %q", res.testid("effective-recoverable"), res.testid("effective-rotate-every"), res.testid("effective-grace"))
	}
	if got := res.doc().Find(`[data-testid=policy-grace-days]`).AttrOr("value", "?"); got != "0" {
		t.Fatalf("EU's own grace shows as %q", got)
	}
	if got := admin.get("/orgs/" + f.beta.ID).testid("effective-grace"); got != "30 days (the default)" {
		t.Fatalf("Beta's grace: %q", got)
	}
	// A key's Rotate form offers its organization's grace.
	k := tc.createKey("rotating", func(in *store.NewKey) { in.Org = f.acme.ID })
	if got := admin.get("/keys/"+k.ID).doc().Find("#grace_days").AttrOr("value", "?"); got != "7" {
		t.Fatalf("the Rotate form offers %q days, want Acme's 7", got)
	}

	for _, bad := range []struct {
		form        url.Values
		field, want string
	}{
		{url.Values{"grace_days": {"31"}}, "grace_days", "from 0 to 30"},
		{url.Values{"grace_days": {"-1"}}, "grace_days", "from 0 to 30"},
		{url.Values{"grace_days": {"a week"}}, "grace_days", "from 0 to 30"},
		{url.Values{"grace_days": {"8"}}, "grace_days", "Default/Acme allows a grace period of at most 7 days"},
		{url.Values{"rotate_every_days": {"0"}}, "rotate_every_days", "from 1 to 3,650"},
		{url.Values{"rotate_every_days": {"400"}}, "rotate_every_days", "Default/Acme rotates keys every 365 days"},
	} {
		bad.form.Set("api_keys_enabled", "on")
		bad.form.Set("recoverable_keys", "on")
		before := tc.orgSnapshot()
		res := admin.post("/orgs/"+f.eu.ID+"/policy", bad.form)
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if got := res.testid(bad.field + "-error"); !strings.Contains(got, bad.want) {
			t.Errorf("%v: beside %s %q, want %q", bad.form, bad.field, got, bad.want)
		}
		d := res.doc()
		if d.Find(`[data-testid=policy-grace-days]`).AttrOr("value", "?") != bad.form.Get("grace_days") ||
			d.Find(`[data-testid=policy-rotate-every-days]`).AttrOr("value", "?") != bad.form.Get("rotate_every_days") ||
			!d.Find(`[data-testid=recoverable-keys]`).Is("[checked]") {
			t.Errorf("%v: the form did not come back as typed", bad.form)
		}
		if tc.orgSnapshot() != before {
			t.Errorf("%v: a refused policy changed something", bad.form)
		}
	}
}
