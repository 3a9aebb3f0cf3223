package store

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestRoles(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	roles, err := s.Roles(ctx, Scope{})
	if err != nil || len(roles) != 3 || roles[0].Name != "Administrator" || !roles[0].Builtin {
		t.Fatalf("built-in roles: %+v, %v", roles, err)
	}
	if len(roles[0].Rights) != len(Rights) {
		t.Fatalf("Administrator has %d of %d rights", len(roles[0].Rights), len(Rights))
	}

	auditor, err := s.CreateRole(ctx, testActor, RoleInput{Name: " Auditor ", Rights: []Right{RightAudit, RightKeysRead, RightKeysView, RightAudit}})
	if err != nil || auditor.Name != "Auditor" || len(auditor.Rights) != 3 {
		t.Fatalf("create: %+v, %v", auditor, err)
	}
	for _, in := range []RoleInput{{Name: ""}, {Name: "auditor"}, {Name: "x", Rights: []Right{"keys.fly"}}, {Name: strings.Repeat("r", 61)}} {
		if _, err := s.CreateRole(ctx, testActor, in); ErrorCode(err) != EINVALID {
			t.Errorf("create %+v: %v", in, err)
		}
	}
	renamed, err := s.UpdateRole(ctx, testActor, auditor.ID, RoleInput{Name: "Auditors", Rights: []Right{RightAudit}})
	if err != nil || renamed.Name != "Auditors" || !slices.Equal(renamed.Rights, []Right{RightAudit}) {
		t.Fatalf("update: %+v, %v", renamed, err)
	}
	if _, err := s.UpdateRole(ctx, testActor, RoleViewer, RoleInput{Name: "Viewer", Rights: []Right{RightUsers}}); ErrorCode(err) != ECONFLICT {
		t.Fatalf("changing a built-in role: %v", err)
	}
	if _, err := s.DeleteRole(ctx, testActor, RoleAdministrator); ErrorCode(err) != ECONFLICT {
		t.Fatalf("deleting a built-in role: %v", err)
	}

	// A role that users hold cannot go, and the message says who holds it.
	for _, name := range []string{"zed", "amy"} {
		if _, err := s.CreateUser(ctx, testActor, NewUser{Username: name, Password: "long enough password", RoleID: auditor.ID}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = s.DeleteRole(ctx, testActor, auditor.ID)
	wantCode(t, err, ECONFLICT)
	if !strings.Contains(err.Error(), "amy and zed") {
		t.Fatalf("message %q does not name the holders", err)
	}
	// The holders get the role's new rights at once.
	u, _ := s.Authenticate(ctx, "amy", "long enough password")
	if !u.Can(RightAudit) || u.Can(RightKeysRead) {
		t.Fatalf("amy's rights %v", u.Rights)
	}
	users, _ := s.Users(ctx, Scope{}, "")
	for _, u := range users {
		if u.RoleID == auditor.ID {
			if _, err := s.SetUserRole(ctx, testActor, u.ID, RoleViewer); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.DeleteRole(ctx, testActor, auditor.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Role(ctx, Scope{}, auditor.ID)
	wantCode(t, err, ENOTFOUND)
	evs, _ := s.TargetEvents(ctx, Scope{}, TargetRole, "4", 10)
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action)
	}
	if !slices.Equal(actions, []string{ActionRoleDeleted, ActionRoleUpdated, ActionRoleCreated}) {
		t.Fatalf("role events %v", actions)
	}
}
