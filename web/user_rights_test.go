package web

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/keydesk/keydesk/store"
)

// TestUserManagersCannotMakeThemselvesAdministrators gives a role only the
// right to manage users, and tries every way through the console to more.
func TestUserManagersCannotMakeThemselvesAdministrators(t *testing.T) {
	tc := newTestConsole(t)
	ctx := context.Background()
	role, err := tc.store.CreateRole(ctx, store.SystemActor("test"), store.RoleInput{Name: "User admins", Rights: []store.Right{store.RightUsers}})
	if err != nil {
		t.Fatal(err)
	}
	ua, err := tc.store.CreateUser(ctx, store.SystemActor("test"), store.NewUser{Username: "ua", Password: testPassword, RoleID: role.ID})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := tc.store.Authenticate(ctx, "admin", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	cl := tc.loggedIn("ua")
	admin1 := itoa64(store.RoleAdministrator)
	before := tc.snapshot()
	for _, c := range []struct {
		name, path string
		form       url.Values
		status     int
		says       string
	}{
		{"own role", "/users/" + itoa64(ua.ID) + "/role", url.Values{"role": {admin1}}, 403, "your own role"},
		{"new administrator", "/users", url.Values{"username": {"sock"}, "role": {admin1}, "password": {testPassword}, "confirm": {testPassword}}, 422, "rights you do not hold"},
		{"powerful role", "/roles", url.Values{"name": {"More"}, "rights": {"users.manage", "settings.manage"}}, 422, "rights you do not hold"},
		{"own role's rights", "/roles/" + itoa64(role.ID), url.Values{"name": {"User admins"}, "rights": {"users.manage", "audit.view"}}, 422, "rights you do not hold"},
		{"administrator's password", "/users/" + itoa64(admin.ID) + "/password", url.Values{"password": {"taken over, thanks"}, "confirm": {"taken over, thanks"}}, 403, "holds rights that you do not"},
		{"demote the administrator", "/users/" + itoa64(admin.ID) + "/role", url.Values{"role": {itoa64(role.ID)}}, 403, "holds rights that you do not"},
		{"disable the administrator", "/users/" + itoa64(admin.ID) + "/disable", nil, 403, "holds rights that you do not"},
		{"delete the administrator", "/users/" + itoa64(admin.ID) + "/delete", nil, 403, "holds rights that you do not"},
	} {
		res := cl.post(c.path, c.form)
		if res.Code != c.status || !strings.Contains(res.Body.String(), c.says) {
			t.Errorf("%s: status %d, want %d saying %q\n%.300s", c.name, res.Code, c.status, c.says, res.testid("error-message"))
		}
	}
	if tc.snapshot() != before {
		t.Fatal("a refused change changed the database")
	}

	// The pages offer only what the user may do.
	page := cl.get("/users/new")
	if opts := page.doc().Find(`select[name=role] option[value!=""]`); opts.Length() != 1 || !strings.HasPrefix(opts.Text(), "User admins") {
		t.Fatalf("the New user form offers roles %q", opts.Text())
	}
	page = cl.get("/users/" + itoa64(admin.ID))
	if page.doc().Find(`[data-testid=role-form], [data-testid=reset-form], [data-testid=disable-user], [data-testid=delete-user]`).Length() != 0 ||
		page.testid("cannot-manage-note") == "" {
		t.Fatal("the administrator's page offers changes that would be refused")
	}
	if page := cl.get("/users/" + itoa64(ua.ID)); page.doc().Find(`[data-testid=role-form]`).Length() != 0 {
		t.Fatal("one's own page offers to change one's role")
	}
}
