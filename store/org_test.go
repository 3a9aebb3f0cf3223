package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"
)

// orgTree builds Default/Acme/EU and Default/Beta for a test.
func testOrgs(t *testing.T, s *Store) (root, acme, eu, beta Org) {
	t.Helper()
	ctx := context.Background()
	orgs, err := s.Orgs(ctx, Scope{})
	if err != nil || len(orgs) != 1 {
		t.Fatalf("a new database has %d organizations, %v", len(orgs), err)
	}
	root = orgs[0]
	mk := func(name, parent string) Org {
		o, err := s.CreateOrg(ctx, testActor, name, parent)
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return o
	}
	acme = mk("Acme", root.ID)
	eu = mk("EU", acme.ID)
	beta = mk("Beta", "")
	return
}

func TestOrganizationTree(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	root, acme, eu, beta := testOrgs(t, s)
	if root.Name != "Default" || !root.IsRoot() || root.ID == "" || root.ParentID != "" {
		t.Fatalf("root: %+v", root)
	}
	if eu.Path != "Default/Acme/EU" || eu.Depth != 2 || eu.ParentID != acme.ID || beta.ParentID != root.ID {
		t.Fatalf("eu %+v, beta %+v", eu, beta)
	}
	orgs, err := s.Orgs(ctx, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, o := range orgs {
		paths = append(paths, o.Path)
	}
	if strings.Join(paths, "|") != "Default|Default/Acme|Default/Acme/EU|Default/Beta" {
		t.Fatalf("tree order: %q", paths)
	}

	// A scope sees its subtree only; everything else does not exist.
	acmeScope := orgScope(acme.ids)
	orgs, _ = s.Orgs(ctx, acmeScope)
	if len(orgs) != 2 || orgs[0].ID != acme.ID || orgs[1].ID != eu.ID {
		t.Fatalf("Acme's scope: %+v", orgs)
	}
	for _, id := range []string{root.ID, beta.ID, "nosuchorg"} {
		if _, err := s.Org(ctx, acmeScope, id); ErrorCode(err) != ENOTFOUND {
			t.Errorf("Acme's scope reads %s: %v", id, err)
		}
	}

	bad := []struct {
		name  string
		do    func() error
		field string
	}{
		{"duplicate name", func() error { _, err := s.CreateOrg(ctx, testActor, "acme", root.ID); return err }, "name"},
		{"slash in name", func() error { _, err := s.CreateOrg(ctx, testActor, "A/B", root.ID); return err }, "name"},
		{"unknown parent", func() error { _, err := s.CreateOrg(ctx, testActor, "X", "nosuchorg"); return err }, "org"},
		{"move under itself", func() error { _, err := s.UpdateOrg(ctx, testActor, acme.ID, "Acme", acme.ID); return err }, "parent_id"},
		{"move under its child", func() error { _, err := s.UpdateOrg(ctx, testActor, acme.ID, "Acme", eu.ID); return err }, "parent_id"},
		{"a parent outside the scope", func() error {
			_, err := s.CreateOrg(ctx, Actor{Username: "acme-admin", Scope: acmeScope}, "X", beta.ID)
			return err
		}, "org"},
	}
	for _, b := range bad {
		err := b.do()
		var se *Error
		if !asStoreError(err, &se) || se.Code != EINVALID || se.Field != b.field {
			t.Errorf("%s: %v, want invalid %q", b.name, err, b.field)
		}
	}
	if _, err := s.DeleteOrg(ctx, testActor, acme.ID); ErrorCode(err) != ECONFLICT {
		t.Errorf("delete an organization with children: %v", err)
	}
	if _, err := s.DeleteOrg(ctx, testActor, root.ID); ErrorCode(err) != ECONFLICT {
		t.Errorf("delete the root: %v", err)
	}
	// Beta holds a key, then a user: it cannot go until they do.
	k, _ := mustCreateKey(t, s, NewKey{Name: "in-beta", Org: beta.ID})
	if _, err := s.DeleteOrg(ctx, testActor, beta.ID); ErrorCode(err) != ECONFLICT || !strings.Contains(err.Error(), "1 key") {
		t.Errorf("delete an organization with a key: %v", err)
	}
	if _, err := s.DeleteKey(ctx, testActor, k.ID); err != nil {
		t.Fatal(err)
	}
	if counted, _ := s.Org(ctx, Scope{}, acme.ID); counted.Children != 1 {
		t.Errorf("Acme has %d children, want 1", counted.Children)
	}

	// Moving EU under Beta moves its path, and its subtree with it.
	sub, err := s.CreateOrg(ctx, testActor, "Paris", eu.ID)
	if err != nil {
		t.Fatal(err)
	}
	moved, err := s.UpdateOrg(ctx, testActor, eu.ID, "Europe", beta.ID)
	if err != nil {
		t.Fatal(err)
	}
	if moved.Path != "Default/Beta/Europe" {
		t.Fatalf("moved: %s", moved.Path)
	}
	if got, _ := s.Org(ctx, Scope{}, sub.ID); got.Path != "Default/Beta/Europe/Paris" || !orgScope(beta.ids).contains(got.ids) || acmeScope.contains(got.ids) {
		t.Fatalf("below the moved one: %s", got.Path)
	}
	if _, err := s.DeleteOrg(ctx, testActor, sub.ID); err != nil {
		t.Fatalf("delete an empty organization: %v", err)
	}
	if _, err := s.Org(ctx, Scope{}, sub.ID); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("deleted, still there: %v", err)
	}
	// Each change is one event, recorded with the organization.
	var n int
	if err := s.writer.QueryRow(`SELECT count(*) FROM events WHERE target_type = 'org'`).Scan(&n); err != nil || n != 6 {
		t.Fatalf("%d organization events, %v; want 4 created, 1 moved, 1 deleted", n, err)
	}
	var org int64
	if err := s.writer.QueryRow(`SELECT org_id FROM events WHERE action = ? AND target_id = ?`, ActionOrgCreated, eu.ID).Scan(&org); err != nil || org != eu.rowID {
		t.Fatalf("EU's creation is recorded under organization %d, %v; want %d", org, err, eu.rowID)
	}
}

func TestOrganizationPolicy(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	root, acme, eu, _ := testOrgs(t, s)
	if !root.Effective.APIKeysEnabled || root.Effective.MaxKeysPerUser != 0 {
		t.Fatalf("the default policy: %+v", root.Effective)
	}
	if _, err := s.SetOrgPolicy(ctx, testActor, acme.ID, Policy{APIKeysEnabled: true, MaxExpiryDays: 90, MaxKeysPerUser: 10}); err != nil {
		t.Fatal(err)
	}
	// A child may be stricter, never looser.
	if _, err := s.SetOrgPolicy(ctx, testActor, eu.ID, Policy{APIKeysEnabled: true, MaxExpiryDays: 365}); ErrorCode(err) != EINVALID {
		t.Fatalf("looser expiry: %v", err)
	}
	if _, err := s.SetOrgPolicy(ctx, testActor, eu.ID, Policy{APIKeysEnabled: true, MaxKeysPerUser: 1001}); ErrorCode(err) != EINVALID {
		t.Fatalf("over 1000 keys: %v", err)
	}
	got, err := s.SetOrgPolicy(ctx, testActor, eu.ID, Policy{APIKeysEnabled: false, MaxExpiryDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Policy{APIKeysEnabled: false, MaxExpiryDays: 30, MaxKeysPerUser: 10}); got.Effective != want {
		t.Fatalf("effective policy of EU: %+v, want %+v", got.Effective, want)
	}
	// API keys cannot come back on below an organization that has them off.
	if _, err := s.SetOrgPolicy(ctx, testActor, acme.ID, Policy{APIKeysEnabled: false, MaxExpiryDays: 90, MaxKeysPerUser: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetOrgPolicy(ctx, testActor, eu.ID, Policy{APIKeysEnabled: true, MaxExpiryDays: 30}); ErrorCode(err) != EINVALID {
		t.Fatalf("keys on below keys off: %v", err)
	}
	if _, err := s.SetOrgPolicy(ctx, testActor, acme.ID, Policy{APIKeysEnabled: true, MaxExpiryDays: 90, MaxKeysPerUser: 10}); err != nil {
		t.Fatal(err)
	}
	// Acme's own administrator cannot loosen Acme's limits.
	acmeAdmin := Actor{Username: "acme-admin", Scope: orgScope(acme.ids)}
	if _, err := s.SetOrgPolicy(ctx, acmeAdmin, acme.ID, Policy{APIKeysEnabled: true}); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("a tenant loosens its own policy: %v", err)
	}
	if _, err := s.SetOrgPolicy(ctx, acmeAdmin, eu.ID, Policy{APIKeysEnabled: true, MaxExpiryDays: 7}); err != nil {
		t.Fatalf("a tenant sets its child's policy: %v", err)
	}
	// Nor rename or move it: that is done from above, where its siblings are.
	if _, err := s.UpdateOrg(ctx, acmeAdmin, acme.ID, "Acme Corp", ""); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("a tenant renames its own organization: %v", err)
	}
	if _, err := s.UpdateOrg(ctx, acmeAdmin, acme.ID, "Acme", eu.ID); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("a tenant moves its own organization: %v", err)
	}
	if renamed, err := s.UpdateOrg(ctx, acmeAdmin, eu.ID, "Europe", ""); err != nil || renamed.Path != "Default/Acme/Europe" {
		t.Fatalf("a tenant renames its child: %+v, %v", renamed, err)
	}
}

func asStoreError(err error, se **Error) bool { return errors.As(err, se) }

// TestKeysServeTheirOrganizationAndBelow verifies keys at the root (cluster
// keys) and at Acme for every organization, before and after moves and
// switches.
func TestKeysServeTheirOrganizationAndBelow(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	root, acme, eu, beta := testOrgs(t, s)
	_, cluster := mustCreateKey(t, s, NewKey{Name: "cluster", Enabled: true})
	_, tenant := mustCreateKey(t, s, NewKey{Name: "tenant", Enabled: true, Org: acme.ID})
	check := func(secret, org string) string {
		t.Helper()
		v, err := s.VerifyKey(ctx, secret, "", org)
		if err != nil {
			t.Fatal(err)
		}
		if v.Valid {
			return "valid"
		}
		return v.Code
	}
	for _, c := range []struct{ secret, org, want string }{
		{cluster, "", "valid"}, {cluster, root.ID, "valid"}, {cluster, eu.ID, "valid"}, {cluster, beta.ID, "valid"},
		{tenant, "", "valid"}, {tenant, acme.ID, "valid"}, {tenant, eu.ID, "valid"},
		{tenant, root.ID, CodeWrongOrg}, {tenant, beta.ID, CodeWrongOrg}, {tenant, "no-such-org", CodeWrongOrg},
		{cluster, "no-such-org", CodeWrongOrg},
	} {
		if got := check(c.secret, c.org); got != c.want {
			t.Errorf("key %s for org %q: %s, want %s", c.secret[:8], c.org, got, c.want)
		}
	}
	if v, _ := s.VerifyKey(ctx, tenant, "", eu.ID); v.OrgID != acme.ID || v.OrgName != "Acme" {
		t.Fatalf("the answer names %q %q, want Acme", v.OrgID, v.OrgName)
	}
	// Moving EU under Beta: Acme's key no longer serves it, from the next call.
	if _, err := s.UpdateOrg(ctx, testActor, eu.ID, "EU", beta.ID); err != nil {
		t.Fatal(err)
	}
	if got := check(tenant, eu.ID); got != CodeWrongOrg {
		t.Fatalf("after the move: %s", got)
	}
	// Switching Acme's keys off refuses its key at once, and not the cluster key.
	if _, err := s.SetOrgPolicy(ctx, testActor, acme.ID, Policy{APIKeysEnabled: false}); err != nil {
		t.Fatal(err)
	}
	if got := check(tenant, acme.ID); got != CodeOrgDisabled {
		t.Fatalf("switched off: %s", got)
	}
	if got := check(cluster, acme.ID); got != "valid" {
		t.Fatalf("the cluster key for a switched-off organization: %s", got)
	}
	// Nor can a key be created there.
	if _, _, err := s.CreateKey(ctx, testActor, NewKey{Name: "more", Permissions: []string{"chat"}, Capacity: 1, Frequency: 1, Org: acme.ID}); ErrorCode(err) != EINVALID {
		t.Fatalf("created a key where keys are off: %v", err)
	}
}

// TestPolicyLimitsNewKeys creates keys under a maximum expiry and a
// maximum number of keys per user.
func TestPolicyLimitsNewKeys(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	_, acme, _, _ := testOrgs(t, s)
	if _, err := s.SetOrgPolicy(ctx, testActor, acme.ID, Policy{APIKeysEnabled: true, MaxExpiryDays: 30, MaxKeysPerUser: 2}); err != nil {
		t.Fatal(err)
	}
	sam := Actor{UserID: 42, Username: "sam", Scope: Scope{}}
	create := func(name string, expires time.Time) error {
		_, _, err := s.CreateKey(ctx, sam, NewKey{Name: name, Permissions: []string{"chat"}, Capacity: 1, Frequency: 1, Org: acme.ID, ExpiresAt: expires})
		return err
	}
	in10 := clock.now.AddDate(0, 0, 10)
	for name, at := range map[string]time.Time{"never": {}, "too late": clock.now.AddDate(0, 0, 31)} {
		var se *Error
		if err := create(name, at); !asStoreError(err, &se) || se.Field != "expires_at" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := create("one", in10); err != nil {
		t.Fatal(err)
	}
	if err := create("two", in10); err != nil {
		t.Fatal(err)
	}
	err := create("three", in10)
	if err == nil || !strings.Contains(err.Error(), "allows 2 keys per user") || !strings.Contains(err.Error(), "you have 2") {
		t.Fatalf("a third key: %v", err)
	}
	// Another user has their own allowance; a revoked key frees one.
	if _, _, err := s.CreateKey(ctx, testActor, NewKey{Name: "not sam's", Permissions: []string{"chat"}, Capacity: 1, Frequency: 1, Org: acme.ID, ExpiresAt: in10}); err != nil {
		t.Fatal(err)
	}
	page, _ := s.Keys(ctx, Scope{}, KeyQuery{KeyFilter: KeyFilter{Search: "one"}, Sort: SortName})
	if _, err := s.RevokeKey(ctx, testActor, page.Keys[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := create("three", in10); err != nil {
		t.Fatalf("after a revocation: %v", err)
	}
	// Extending past the maximum is refused too.
	page, _ = s.Keys(ctx, Scope{}, KeyQuery{KeyFilter: KeyFilter{Search: "two"}, Sort: SortName})
	if _, err := s.SetKeyExpiry(ctx, testActor, page.Keys[0].ID, time.Time{}); ErrorCode(err) != EINVALID {
		t.Fatalf("extended to never: %v", err)
	}
}

// TestMovingUsers moves a user within a tenant's subtree, and refuses a
// move above it, of someone outside it, and of oneself.
func TestMovingUsers(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	root, acme, eu, beta := testOrgs(t, s)
	admin, err := s.CreateUser(ctx, testActor, NewUser{Username: "acme-admin", Password: "a long enough password", RoleID: RoleAdministrator, Org: acme.ID})
	if err != nil {
		t.Fatal(err)
	}
	staff, err := s.CreateUser(ctx, testActor, NewUser{Username: "staff", Password: "a long enough password", RoleID: RoleViewer, Org: acme.ID})
	if err != nil {
		t.Fatal(err)
	}
	outsider, err := s.CreateUser(ctx, testActor, NewUser{Username: "outsider", Password: "a long enough password", RoleID: RoleViewer, Org: beta.ID})
	if err != nil {
		t.Fatal(err)
	}
	as := Actor{UserID: admin.ID, Username: admin.Username, Scope: admin.Scope()}
	moved, err := s.SetUserOrg(ctx, as, staff.ID, eu.ID)
	if err != nil || moved.OrgID != eu.ID || moved.SessionVersion != staff.SessionVersion+1 {
		t.Fatalf("move within the subtree: %+v, %v", moved, err)
	}
	for name, c := range map[string]struct {
		id   int64
		org  string
		code string
	}{
		"above the subtree":     {staff.ID, root.ID, EINVALID},
		"into a sibling":        {staff.ID, beta.ID, EINVALID},
		"someone outside":       {outsider.ID, eu.ID, ENOTFOUND},
		"oneself":               {admin.ID, eu.ID, EFORBIDDEN},
		"to no organization at": {staff.ID, "", EINVALID},
	} {
		if _, err := s.SetUserOrg(ctx, as, c.id, c.org); ErrorCode(err) != c.code {
			t.Errorf("%s: %v, want %s", name, err, c.code)
		}
	}
}

// TestSecretPolicy: the secret settings compose along the path as their
// own kind of strictness (recoverable anywhere above is recoverable, the
// shortest schedule and grace win), a child cannot wait longer or allow a
// longer grace, and a rotation takes its grace from the policy.
func TestSecretPolicy(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	withMasterKey(t, s)
	root, acme, eu, _ := testOrgs(t, s)
	if g := root.Effective.Grace(); g != DefaultGraceDays || root.Effective.RecoverableKeys {
		t.Fatalf("the default policy: grace %d, %+v", g, root.Effective)
	}
	if _, err := s.SetOrgPolicy(ctx, testActor, acme.ID, Policy{APIKeysEnabled: true, RecoverableKeys: true, RotateEveryDays: 365, GraceDays: 14, GraceSet: true}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		p     Policy
		field string
	}{
		{Policy{APIKeysEnabled: true, RotateEveryDays: 400}, "rotate_every_days"},
		{Policy{APIKeysEnabled: true, GraceDays: 20, GraceSet: true}, "grace_days"},
		{Policy{APIKeysEnabled: true, GraceDays: 31, GraceSet: true}, "grace_days"},
		{Policy{APIKeysEnabled: true, GraceDays: -1, GraceSet: true}, "grace_days"},
		{Policy{APIKeysEnabled: true, RotateEveryDays: MaxRotateEveryDays + 1}, "rotate_every_days"},
	} {
		var e *Error
		if _, err := s.SetOrgPolicy(ctx, testActor, eu.ID, bad.p); !errors.As(err, &e) || e.Code != EINVALID || e.Field != bad.field {
			t.Errorf("%+v: %v, want %s refused", bad.p, err, bad.field)
		}
	}
	got, err := s.SetOrgPolicy(ctx, testActor, eu.ID, Policy{APIKeysEnabled: true, RotateEveryDays: 90, GraceDays: 0, GraceSet: true})
	if err != nil {
		t.Fatal(err)
	}
	want := Policy{APIKeysEnabled: true, RecoverableKeys: true, RotateEveryDays: 90, GraceDays: 0, GraceSet: true}
	if got.Effective != want || got.Effective.Grace() != 0 {
		t.Fatalf("effective policy of EU: %+v, want %+v", got.Effective, want)
	}
	// Unset, EU takes Acme's grace; a grace of 0 set is kept as 0.
	if got, err = s.SetOrgPolicy(ctx, testActor, eu.ID, Policy{APIKeysEnabled: true}); err != nil || got.Effective.Grace() != 14 || got.Policy.GraceSet {
		t.Fatalf("EU without its own grace: %+v, %v", got, err)
	}

	// A rotation without a grace takes the organization's; one longer
	// than the policy allows is refused.
	k, _ := mustCreateKey(t, s, NewKey{Name: "svc", Enabled: true, Org: eu.ID})
	r, err := s.RotateKey(ctx, testActor, k.ID, OrgGrace)
	if err != nil {
		t.Fatal(err)
	}
	if want := clock.now.AddDate(0, 0, 14); !r.Replaced.GraceUntil.Equal(want) {
		t.Fatalf("grace until %v, want %v (the policy's 14 days)", r.Replaced.GraceUntil, want)
	}
	var e *Error
	if _, err := s.RotateKey(ctx, testActor, k.ID, 15); !errors.As(err, &e) || e.Field != "grace_days" || !strings.Contains(e.Message, "at most 14 days") {
		t.Fatalf("a grace past the policy's: %v", err)
	}
	plain, _ := mustCreateKey(t, s, NewKey{Name: "svc"})
	if r, err = s.RotateKey(ctx, testActor, plain.ID, OrgGrace); err != nil || !r.Replaced.GraceUntil.Equal(clock.now.AddDate(0, 0, DefaultGraceDays)) {
		t.Fatalf("at the root the grace is the default: %+v, %v", r.Replaced, err)
	}
}

// TestOneOrganizationIsReadAsTheTreeHasIt: an organization read alone,
// with those above it, by its id or its row, has the path, depth,
// effective policy and number of children that the whole tree gives it;
// outside the scope, it does not exist.
func TestOneOrganizationIsReadAsTheTreeHasIt(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	root, acme, eu, beta := testOrgs(t, s)
	if _, err := s.SetOrgPolicy(ctx, testActor, acme.ID, Policy{APIKeysEnabled: true, MaxExpiryDays: 90, MaxKeysPerUser: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetOrgPolicy(ctx, testActor, eu.ID, Policy{APIKeysEnabled: true, MaxExpiryDays: 30}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateOrg(ctx, testActor, "Paris", eu.ID); err != nil {
		t.Fatal(err)
	}
	err := s.read(ctx, func(tx *sql.Tx) error {
		tree, err := orgTree(ctx, tx, Scope{})
		if err != nil {
			return err
		}
		for _, want := range tree {
			byID, err := orgByID(ctx, tx, Scope{}, want.ID)
			if err != nil {
				return err
			}
			byRow, err := orgByRow(ctx, tx, want.rowID)
			if err != nil {
				return err
			}
			for _, got := range []Org{byID, byRow} {
				if got.Path != want.Path || got.Depth != want.Depth || got.Effective != want.Effective || got.Children != want.Children || got.ParentID != want.ParentID {
					t.Errorf("%s read alone: %+v\nin the tree: %+v", want.Path, got, want)
				}
			}
		}
		if _, err := orgByID(ctx, tx, orgScope(acme.ids), beta.ID); ErrorCode(err) != ENOTFOUND {
			t.Errorf("Beta in Acme's scope: %v", err)
		}
		if _, err := orgByID(ctx, tx, orgScope(acme.ids), root.ID); ErrorCode(err) != ENOTFOUND {
			t.Errorf("the root in Acme's scope: %v", err)
		}
		if o, err := orgByID(ctx, tx, orgScope(acme.ids), eu.ID); err != nil || o.Effective.MaxExpiryDays != 30 || o.Effective.MaxKeysPerUser != 10 {
			t.Errorf("EU in Acme's scope: %+v, %v", o.Effective, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
