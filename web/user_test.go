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

func TestCreateUserKeepsTheFormOnError(t *testing.T) {
	tc := newTestConsole(t)
	cl := tc.loggedIn("admin")
	for _, c := range []struct {
		name  string
		form  url.Values
		field string
	}{
		{"duplicate", url.Values{"username": {"Viewer"}, "role": {"3"}, "password": {testPassword}, "confirm": {testPassword}}, "username"},
		{"bad username", url.Values{"username": {"two words"}, "role": {"3"}, "password": {testPassword}, "confirm": {testPassword}}, "username"},
		{"weak password", url.Values{"username": {"newbie"}, "role": {"3"}, "password": {"short"}, "confirm": {"short"}}, "password"},
		{"password is username", url.Values{"username": {"newbie-account"}, "role": {"3"}, "password": {"newbie-account"}, "confirm": {"newbie-account"}}, "password"},
		{"mismatch", url.Values{"username": {"newbie"}, "role": {"3"}, "password": {testPassword}, "confirm": {testPassword + "x"}}, "confirm"},
		{"no role", url.Values{"username": {"newbie"}, "password": {testPassword}, "confirm": {testPassword}}, "role"},
		{"unknown role", url.Values{"username": {"newbie"}, "role": {"99"}, "password": {testPassword}, "confirm": {testPassword}}, "role"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := tc.snapshot()
			c.form.Set("display_name", "New Person")
			res := cl.post("/users", c.form)
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if res.testid(c.field+"-error") == "" {
				t.Fatalf("no message beside %s", c.field)
			}
			d := res.doc()
			if d.Find(`[data-testid=username]`).AttrOr("value", "") != c.form.Get("username") ||
				d.Find(`[data-testid=display-name]`).AttrOr("value", "") != "New Person" {
				t.Fatal("the form lost what was typed")
			}
			if strings.Contains(res.Body.String(), testPassword) {
				t.Fatal("the password was sent back")
			}
			if tc.snapshot() != before {
				t.Fatal("a refused user changed the database")
			}
		})
	}
	res := cl.post("/users", url.Values{"username": {"Newbie"}, "display_name": {"New Person"}, "role": {"2"}, "password": {testPassword}, "confirm": {testPassword}})
	wantStatus(t, res, http.StatusSeeOther)
	u, err := tc.store.Authenticate(context.Background(), "newbie", testPassword)
	if err != nil || u.RoleName != "Key manager" || u.DisplayName != "New Person" {
		t.Fatalf("created %+v, %v", u, err)
	}
}

func TestRoleChangeAndDisableTakeEffectAtOnce(t *testing.T) {
	tc := newTestConsole(t)
	admin := tc.loggedIn("admin")
	manager := tc.loggedIn("manager")
	wantStatus(t, manager.get("/keys/new"), http.StatusOK)
	m, _ := tc.store.Authenticate(context.Background(), "manager", testPassword)

	wantStatus(t, admin.post("/users/"+itoa64(m.ID)+"/role", url.Values{"role": {"3"}}), http.StatusSeeOther)
	// The role change ended the manager's session; logged in again, they
	// are a viewer.
	wantStatus(t, manager.get("/keys"), http.StatusSeeOther)
	manager = tc.loggedIn("manager")
	wantStatus(t, manager.get("/keys/new"), http.StatusForbidden)
	if manager.get("/keys").doc().Find(`[data-testid=new-key]`).Length() != 0 {
		t.Fatal("a viewer is offered New API key")
	}

	wantStatus(t, admin.post("/users/"+itoa64(m.ID)+"/disable", nil), http.StatusSeeOther)
	wantStatus(t, manager.get("/keys"), http.StatusSeeOther)
	res := tc.client().post("/login", url.Values{"username": {"manager"}, "password": {testPassword}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if res.testid("login-error") != store.ErrBadLogin.Message {
		t.Fatal("a disabled account gets a different message")
	}
}

func TestAdminsCannotLockThemselvesOut(t *testing.T) {
	tc := newTestConsole(t)
	admin := tc.loggedIn("admin")
	me, _ := tc.store.Authenticate(context.Background(), "admin", testPassword)
	before := tc.snapshot()
	for _, action := range []string{"disable", "delete"} {
		res := admin.post("/users/"+itoa64(me.ID)+"/"+action, nil)
		wantStatus(t, res, http.StatusConflict)
		if !strings.Contains(res.testid("error-message"), "your own account") {
			t.Fatalf("%s: %q", action, res.testid("error-message"))
		}
	}
	res := admin.post("/users/"+itoa64(me.ID)+"/role", url.Values{"role": {"3"}})
	wantStatus(t, res, http.StatusForbidden)
	if !strings.Contains(res.testid("error-message"), "You cannot change your own role") {
		t.Fatalf("demoting oneself: %q", res.testid("error-message"))
	}
	if tc.snapshot() != before {
		t.Fatal("a refused change changed the database")
	}
	page := admin.get("/users/" + itoa64(me.ID))
	if page.doc().Find(`[data-testid=delete-user], [data-testid=disable-user]`).Length() != 0 {
		t.Fatal("your own page offers disable or delete")
	}
	wantStatus(t, admin.get("/users/999"), http.StatusNotFound)
	wantStatus(t, admin.post("/users/999/disable", nil), http.StatusNotFound)
	wantStatus(t, admin.get("/users/abc"), http.StatusNotFound)
}

func TestRolesPages(t *testing.T) {
	tc := newTestConsole(t)
	admin := tc.loggedIn("admin")
	res := admin.post("/roles", url.Values{"name": {"Auditor"}, "rights": {"audit.view", "apikeys.view", "apikeys.read"}})
	wantStatus(t, res, http.StatusSeeOther)
	r, err := tc.store.RoleByName(context.Background(), "auditor")
	if err != nil || len(r.Rights) != 3 {
		t.Fatalf("role %+v, %v", r, err)
	}
	for _, bad := range []url.Values{{"name": {""}}, {"name": {"viewer"}}, {"name": {"x"}, "rights": {"keys.fly"}}} {
		res := admin.post("/roles", bad)
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if got := res.doc().Find(`[data-testid=name]`).AttrOr("value", ""); got != bad.Get("name") {
			t.Fatalf("name field %q, typed %q", got, bad.Get("name"))
		}
	}
	page := admin.get("/roles/" + itoa64(r.ID))
	if page.doc().Find(`[data-testid="right-audit.view"][checked]`).Length() != 1 {
		t.Fatal("the role page does not tick its rights")
	}
	wantStatus(t, admin.post("/users", url.Values{"username": {"audra"}, "role": {itoa64(r.ID)}, "password": {testPassword}, "confirm": {testPassword}}), http.StatusSeeOther)
	res = admin.post("/roles/"+itoa64(r.ID)+"/delete", nil)
	wantStatus(t, res, http.StatusConflict)
	if !strings.Contains(res.testid("error-message"), "audra") {
		t.Fatalf("message %q does not say who holds the role", res.testid("error-message"))
	}
	// Built-in roles are read-only.
	wantStatus(t, admin.post("/roles/3", url.Values{"name": {"Viewer"}, "rights": {"users.manage"}}), http.StatusConflict)
	wantStatus(t, admin.post("/roles/1/delete", nil), http.StatusConflict)
	if admin.get("/roles/1").doc().Find(`[data-testid=save-role], [data-testid=delete-role]`).Length() != 0 {
		t.Fatal("a built-in role offers save or delete")
	}
}

func TestProfileChangesOwnPassword(t *testing.T) {
	tc := newTestConsole(t)
	cl := tc.loggedIn("viewer")
	other := tc.loggedIn("viewer")
	page := cl.get("/profile")
	wantStatus(t, page, http.StatusOK)
	if page.testid("profile-role") != "Viewer" || !strings.Contains(page.testid("profile-rights"), "apikeys.read") {
		t.Fatal("the profile does not show the role and rights")
	}
	res := cl.post("/profile/password", url.Values{"current": {"wrong wrong wrong"}, "password": {"a fresh long password"}, "confirm": {"a fresh long password"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if res.testid("current-error") == "" {
		t.Fatal("no message beside the current password")
	}
	res = cl.post("/profile/password", url.Values{"current": {testPassword}, "password": {"a fresh long password"}, "confirm": {"a fresh long password"}})
	wantStatus(t, res, http.StatusSeeOther)
	// This session goes on; the other one has ended.
	wantStatus(t, cl.get("/profile"), http.StatusOK)
	wantStatus(t, other.get("/profile"), http.StatusSeeOther)
	if _, err := tc.store.Authenticate(context.Background(), "viewer", "a fresh long password"); err != nil {
		t.Fatal(err)
	}
}

func TestLoginThrottling(t *testing.T) {
	tc := newTestConsole(t)
	cl := tc.client()
	bad := url.Values{"username": {"admin"}, "password": {"not the password"}}
	for i := 0; i < store.LoginFreeFailures; i++ {
		wantStatus(t, cl.post("/login", bad), http.StatusUnprocessableEntity)
	}
	// Now even the right password waits, and the page says how long.
	good := url.Values{"username": {"admin"}, "password": {testPassword}}
	res := cl.post("/login", good)
	wantStatus(t, res, http.StatusTooManyRequests)
	if res.Header().Get("Retry-After") != "30" || !strings.Contains(res.testid("login-error"), "Try again in 30 seconds") {
		t.Fatalf("Retry-After %q, message %q", res.Header().Get("Retry-After"), res.testid("login-error"))
	}
	tc.clock.now = tc.clock.now.Add(31 * time.Second)
	wantStatus(t, cl.post("/login", good), http.StatusSeeOther)
}

func TestSessionIDRotatesAtLogin(t *testing.T) {
	tc := newTestConsole(t)
	cl := tc.client()
	cl.get("/login")
	before := cookieValue(cl, sessionName)
	cl.post("/login", url.Values{"username": {"admin"}, "password": {testPassword}})
	after := cookieValue(cl, sessionName)
	if after == "" || after == before {
		t.Fatal("the session cookie did not change at login")
	}
	// Logging in again gives yet another one.
	cl.post("/login", url.Values{"username": {"admin"}, "password": {testPassword}})
	if again := cookieValue(cl, sessionName); again == after {
		t.Fatal("the session cookie was reused across logins")
	}
}

func cookieValue(cl *client, name string) string {
	for _, ck := range cl.jar.Cookies(base) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func TestNavShowsOnlyWhatTheUserMayOpen(t *testing.T) {
	tc := newTestConsole(t)
	for name, want := range map[string]string{
		"admin":   "API keys Events Users Roles Organizations Settings",
		"manager": "API keys",
		"viewer":  "API keys",
	} {
		var links []string
		tc.loggedIn(name).get("/profile").doc().Find(".nav a").Each(func(_ int, a *goquery.Selection) {
			// Phones show the short label instead; desktops the long one.
			if long := a.Find(".label-long"); long.Length() > 0 {
				links = append(links, long.Text())
			} else {
				links = append(links, strings.TrimSpace(a.Text()))
			}
		})
		nav := strings.Join(links, " ")
		if nav != want {
			t.Errorf("%s sees %q, want %q", name, nav, want)
		}
	}
}

// TestDeletedUsersCookieStaysDead: a new user never gets the id of a
// deleted one, so a kept cookie of the deleted user logs nobody in.
func TestDeletedUsersCookieStaysDead(t *testing.T) {
	tc := newTestConsole(t)
	admin := tc.loggedIn("admin")
	wantStatus(t, admin.post("/users", url.Values{"username": {"mallory"}, "role": {"3"}, "password": {testPassword}, "confirm": {testPassword}}), http.StatusSeeOther)
	mallory := tc.loggedIn("mallory")
	m, _ := tc.store.Authenticate(context.Background(), "mallory", testPassword)
	wantStatus(t, admin.post("/users/"+itoa64(m.ID)+"/delete", nil), http.StatusSeeOther)
	wantStatus(t, admin.post("/users", url.Values{"username": {"alice"}, "role": {"1"}, "password": {testPassword}, "confirm": {testPassword}}), http.StatusSeeOther)
	a, _ := tc.store.Authenticate(context.Background(), "alice", testPassword)
	if a.ID == m.ID {
		t.Fatal("the new user got the deleted user's id")
	}
	wantStatus(t, mallory.get("/users"), http.StatusSeeOther)
}

func TestOwnPasswordIsChangedOnTheProfile(t *testing.T) {
	tc := newTestConsole(t)
	admin := tc.loggedIn("admin")
	me, _ := tc.store.Authenticate(context.Background(), "admin", testPassword)
	res := admin.post("/users/"+itoa64(me.ID)+"/password", url.Values{"password": {"taken over now"}, "confirm": {"taken over now"}})
	wantStatus(t, res, http.StatusConflict)
	if _, err := tc.store.Authenticate(context.Background(), "admin", testPassword); err != nil {
		t.Fatal("the password changed without the current one")
	}
	if admin.get("/users/"+itoa64(me.ID)).doc().Find(`[data-testid=reset-form]`).Length() != 0 {
		t.Fatal("one's own page offers a password reset")
	}
}

func TestPermissionCatalogPage(t *testing.T) {
	tc := newTestConsole(t)
	admin := tc.loggedIn("admin")
	wantStatus(t, admin.post("/settings/permissions", url.Values{"name": {"voice"}, "description": {"Voice calls."}}), http.StatusSeeOther)
	res := admin.post("/settings/permissions", url.Values{"name": {"Bad Name"}, "description": {"kept"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if res.testid("permission_name-error") == "" || res.doc().Find(`[data-testid=permission-description]`).AttrOr("value", "") != "kept" {
		t.Fatal("the permission form lost what was typed or has no message")
	}
	// The new permission is offered for keys; one in use cannot go.
	if admin.get("/keys/new").doc().Find(`[data-testid=perm-voice]`).Length() != 1 {
		t.Fatal("the new permission is not offered for keys")
	}
	tc.createKey("caller", func(k *store.NewKey) { k.Permissions = []string{"voice"} })
	wantStatus(t, admin.post("/settings/permissions/voice/delete", nil), http.StatusConflict)
	wantStatus(t, admin.post("/settings/permissions/securemail/delete", nil), http.StatusSeeOther)
	if admin.get("/keys/new").doc().Find(`[data-testid=perm-securemail]`).Length() != 0 {
		t.Fatal("a deleted permission is still offered")
	}
}
