package store

import (
	"context"
	"strings"
	"testing"
)

func TestUsersAndLogin(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, testActor, NewUser{Username: " Alice ", Password: "a long enough password", RoleID: RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != "alice" || u.RoleName != "Viewer" || !u.Can(RightKeysView, RightKeysRead) || u.Can(RightKeysCreate) {
		t.Fatalf("user = %+v", u)
	}
	for _, tc := range []struct {
		name  string
		in    NewUser
		field string
	}{
		{"taken", NewUser{Username: "ALICE", Password: "another long password", RoleID: RoleViewer}, "username"},
		{"short password", NewUser{Username: "bob", Password: "short", RoleID: RoleViewer}, "password"},
		{"password is the username", NewUser{Username: "robert-the-admin", Password: "Robert-The-Admin", RoleID: RoleViewer}, "password"},
		{"bad username", NewUser{Username: "bob smith", Password: "a long enough password", RoleID: RoleViewer}, "username"},
		{"no role", NewUser{Username: "bob", Password: "a long enough password", RoleID: 99}, "role"},
	} {
		_, err := s.CreateUser(ctx, testActor, tc.in)
		if ErrorCode(err) != EINVALID || err.(*Error).Field != tc.field {
			t.Errorf("%s: %v, want invalid %s", tc.name, err, tc.field)
		}
	}
	if got, err := s.Authenticate(ctx, "ALICE", "a long enough password"); err != nil || got.ID != u.ID {
		t.Fatalf("login: %+v, %v", got, err)
	}
	for _, bad := range [][2]string{{"alice", "wrong password!"}, {"nobody", "a long enough password"}, {"", ""}} {
		if _, err := s.Authenticate(ctx, bad[0], bad[1]); err != ErrBadLogin {
			t.Errorf("login %q/%q: %v, want ErrBadLogin", bad[0], bad[1], err)
		}
	}
	// A password change ends the sessions issued before it.
	if _, err := s.SetPasswordByName(ctx, testActor, "alice", "a brand new password"); err != nil {
		t.Fatal(err)
	}
	after, _ := s.User(ctx, Scope{}, u.ID)
	if after.SessionVersion != u.SessionVersion+1 {
		t.Fatalf("session version %d, then %d", u.SessionVersion, after.SessionVersion)
	}
	if _, err := s.Authenticate(ctx, "alice", "a long enough password"); err != ErrBadLogin {
		t.Fatal("the old password still works")
	}
	// No hash or password in the audit log.
	var leaks int
	s.writer.QueryRow(`SELECT count(*) FROM events WHERE details LIKE '%argon2%' OR details LIKE '%password%' OR changes LIKE '%argon2%'`).Scan(&leaks)
	if leaks != 0 {
		t.Fatal("a password or hash reached the audit log")
	}
}

func TestPasswordHashFormat(t *testing.T) {
	h := hashPassword("secret password")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash = %q", h)
	}
	if !checkPassword(h, "secret password") || checkPassword(h, "secret passwort") || checkPassword("garbage", "x") {
		t.Fatal("checkPassword disagrees with hashPassword")
	}
}

func TestSessionKeysPersist(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	h1, b1, err := s.SessionKeys(ctx)
	if err != nil || len(h1) != 64 || len(b1) != 32 {
		t.Fatalf("keys: %d, %d, %v", len(h1), len(b1), err)
	}
	h2, b2, _ := s.SessionKeys(ctx)
	if string(h1) != string(h2) || string(b1) != string(b2) {
		t.Fatal("session keys changed between calls")
	}
}

func TestCreateFirstAdminMarksOnlyAPrintedPassword(t *testing.T) {
	for _, c := range []struct {
		name, given string
		want        bool
	}{
		{"generated", "", true},
		{"given", "a password from the environment", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _ := newTestStore(t)
			password, created, err := s.CreateFirstAdmin(t.Context(), c.given)
			if err != nil || !created {
				t.Fatalf("created %v, %v", created, err)
			}
			u, err := s.Authenticate(t.Context(), "admin", password)
			if err != nil {
				t.Fatal(err)
			}
			if got := u.FirstPassword; got != c.want {
				t.Fatalf("FirstPassword = %v, want %v", got, c.want)
			}
		})
	}
}
