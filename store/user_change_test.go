package store

import (
	"context"
	"testing"
)

func mustCreateUser(t *testing.T, s *Store, name string, role int64) User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), testActor, NewUser{Username: name, Password: "a long enough password", RoleID: role})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestTheLastAdministratorStays(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	root := mustCreateUser(t, s, "root", RoleAdministrator)
	other := mustCreateUser(t, s, "other", RoleViewer)

	// The command line may change anyone, but not take away the last
	// administrator.
	for name, change := range map[string]func() (User, error){
		"demote":  func() (User, error) { return s.SetUserRole(ctx, testActor, root.ID, RoleViewer) },
		"disable": func() (User, error) { return s.DisableUser(ctx, testActor, root.ID) },
		"delete":  func() (User, error) { return s.DeleteUser(ctx, testActor, root.ID) },
	} {
		_, err := change()
		if ErrorCode(err) != ECONFLICT {
			t.Errorf("%s the last administrator: %v", name, err)
		}
	}
	// With a second administrator, the first may go; never oneself.
	second, err := s.SetUserRole(ctx, testActor, other.ID, RoleAdministrator)
	if err != nil || second.SessionVersion != other.SessionVersion+1 {
		t.Fatalf("promote: %+v, %v", second, err)
	}
	asRoot := Actor{UserID: root.ID, Username: root.Username}
	if _, err := s.DisableUser(ctx, asRoot, root.ID); ErrorCode(err) != ECONFLICT {
		t.Fatalf("disable oneself: %v", err)
	}
	if _, err := s.DeleteUser(ctx, asRoot, root.ID); ErrorCode(err) != ECONFLICT {
		t.Fatalf("delete oneself: %v", err)
	}
	if _, err := s.DisableUser(ctx, asRoot, other.ID); err != nil {
		t.Fatal(err)
	}
	// other is disabled, so root is the last active administrator again.
	if _, err := s.SetUserRole(ctx, testActor, root.ID, RoleViewer); ErrorCode(err) != ECONFLICT {
		t.Fatalf("demote the last active administrator: %v", err)
	}
	if _, err := s.Authenticate(ctx, "other", "a long enough password"); err != ErrBadLogin {
		t.Fatal("a disabled user logged in")
	}
	if u, err := s.EnableUser(ctx, asRoot, other.ID); err != nil || u.Disabled() {
		t.Fatalf("enable: %+v, %v", u, err)
	}
	if _, err := s.DeleteUser(ctx, asRoot, other.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.User(ctx, Scope{}, other.ID)
	wantCode(t, err, ENOTFOUND)
	_, err = s.DisableUser(ctx, asRoot, other.ID)
	wantCode(t, err, ENOTFOUND)
	_, err = s.SetUserRole(ctx, testActor, root.ID, 99)
	wantCode(t, err, EINVALID)
}

func TestChangeOwnPassword(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	u := mustCreateUser(t, s, "pat", RoleViewer)
	me := Actor{UserID: u.ID, Username: u.Username}
	for _, tc := range []struct{ current, next, field string }{
		{"wrong password!!", "a new long password", "current"},
		{"a long enough password", "short", "password"},
		{"a long enough password", "a long enough password", "password"},
		{"a long enough password", "PAT", "password"},
	} {
		_, err := s.ChangePassword(ctx, me, u.ID, tc.current, tc.next)
		if ErrorCode(err) != EINVALID || err.(*Error).Field != tc.field {
			t.Errorf("%+v: %v", tc, err)
		}
	}
	after, err := s.ChangePassword(ctx, me, u.ID, "a long enough password", "a new long password")
	if err != nil || after.SessionVersion != u.SessionVersion+1 {
		t.Fatalf("change: %+v, %v", after, err)
	}
	if _, err := s.Authenticate(ctx, "pat", "a new long password"); err != nil {
		t.Fatal(err)
	}
}

// TestNobodyGrantsARightTheyDoNotHold gives a user the right to manage
// users and nothing else, and has them try every way to more rights.
func TestNobodyGrantsARightTheyDoNotHold(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	admin := mustCreateUser(t, s, "root", RoleAdministrator)
	userAdmins, err := s.CreateRole(ctx, testActor, RoleInput{Name: "User admins", Rights: []Right{RightUsers}})
	if err != nil {
		t.Fatal(err)
	}
	ua := mustCreateUser(t, s, "ua", userAdmins.ID)
	viewer := mustCreateUser(t, s, "viewer", RoleViewer)
	peer := mustCreateUser(t, s, "peer", userAdmins.ID)
	as := Actor{UserID: ua.ID, Username: ua.Username}

	refusals := []struct {
		name string
		do   func() error
		code string
	}{
		{"give oneself Administrator", func() error { _, err := s.SetUserRole(ctx, as, ua.ID, RoleAdministrator); return err }, EFORBIDDEN},
		{"make another user Administrator", func() error { _, err := s.SetUserRole(ctx, as, peer.ID, RoleAdministrator); return err }, EINVALID},
		{"create an Administrator", func() error {
			_, err := s.CreateUser(ctx, as, NewUser{Username: "sock", Password: "a long enough password", RoleID: RoleAdministrator})
			return err
		}, EINVALID},
		{"create a role with more rights", func() error {
			_, err := s.CreateRole(ctx, as, RoleInput{Name: "More", Rights: []Right{RightUsers, RightSettings}})
			return err
		}, EINVALID},
		{"add rights to one's own role", func() error {
			_, err := s.UpdateRole(ctx, as, userAdmins.ID, RoleInput{Name: "User admins", Rights: []Right{RightUsers, RightAudit}})
			return err
		}, EINVALID},
		{"reset an administrator's password", func() error {
			_, err := s.ResetPassword(ctx, as, admin.ID, "taken over now, thanks")
			return err
		}, EFORBIDDEN},
		{"demote an administrator", func() error { _, err := s.SetUserRole(ctx, as, admin.ID, userAdmins.ID); return err }, EFORBIDDEN},
		{"disable an administrator", func() error { _, err := s.DisableUser(ctx, as, admin.ID); return err }, EFORBIDDEN},
		{"delete an administrator", func() error { _, err := s.DeleteUser(ctx, as, admin.ID); return err }, EFORBIDDEN},
		{"reset one's own password without the current one", func() error {
			_, err := s.ResetPassword(ctx, as, ua.ID, "taken over now, thanks")
			return err
		}, ECONFLICT},
		{"reset a viewer's password", func() error {
			// A Viewer holds apikeys rights that ua does not.
			_, err := s.ResetPassword(ctx, as, viewer.ID, "taken over now, thanks")
			return err
		}, EFORBIDDEN},
	}
	for _, r := range refusals {
		if err := r.do(); ErrorCode(err) != r.code {
			t.Errorf("%s: %v, want code %q", r.name, err, r.code)
		}
	}
	if got, _ := s.User(ctx, Scope{}, ua.ID); got.RoleID != userAdmins.ID {
		t.Fatalf("ua's role is now %s", got.RoleName)
	}
	if _, err := s.Authenticate(ctx, "root", "a long enough password"); err != nil {
		t.Fatalf("the administrator's password changed: %v", err)
	}

	// Within their own rights they manage users as before.
	if _, err := s.CreateUser(ctx, as, NewUser{Username: "another", Password: "a long enough password", RoleID: userAdmins.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResetPassword(ctx, as, peer.ID, "another long password"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DisableUser(ctx, as, peer.ID); err != nil {
		t.Fatal(err)
	}
}
