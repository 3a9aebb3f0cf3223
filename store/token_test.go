package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustUser(t *testing.T, s *Store, name string, role int64, org string) User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), testActor, NewUser{Username: name, Password: "long enough password", RoleID: role, Org: org})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func actorOf(u User) Actor { return Actor{UserID: u.ID, Username: u.Username, Scope: u.Scope()} }

// TestAccessTokens: a user makes a token of some of their rights, in part
// of their organizations, that expires within a year; it is shown once,
// kept as a hash, and lets its bearer in as the user with those rights
// only, in that part; revoked, expired, or its user disabled or deleted,
// it lets nobody in. Bad requests are refused beside their field.
func TestAccessTokens(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	_, acme, eu, beta := testOrgs(t, s)
	ops := mustUser(t, s, "ops", RoleKeyManager, acme.ID)
	me := actorOf(ops)
	month := clock.Now().Add(30 * 24 * time.Hour)

	for _, c := range []struct {
		in    NewToken
		field string
	}{
		{NewToken{Rights: []Right{RightKeysRead}, ExpiresAt: month}, "name"},
		{NewToken{Name: "ci", ExpiresAt: month}, "rights"},
		{NewToken{Name: "ci", Rights: []Right{RightKeysRead}}, "expires"},
		{NewToken{Name: "ci", Rights: []Right{RightKeysRead}, ExpiresAt: clock.Now().Add(400 * 24 * time.Hour)}, "expires"},
		{NewToken{Name: "ci", Rights: []Right{RightUsers}, ExpiresAt: month}, "rights"}, // not the user's
		{NewToken{Name: "ci", Rights: []Right{"nope"}, ExpiresAt: month}, "rights"},
		{NewToken{Name: "ci", Rights: []Right{RightKeysRead}, ExpiresAt: month, OrgID: beta.ID}, "org"}, // not theirs
	} {
		var se *Error
		if _, _, err := s.CreateToken(ctx, me, ops.ID, c.in); !errors.As(err, &se) || se.Field != c.field {
			t.Fatalf("%+v: %v, want an error on %s", c.in, err, c.field)
		}
	}
	if n := count(t, s, "access_tokens"); n != 0 {
		t.Fatalf("refused requests made %d tokens", n)
	}

	tok, secret, err := s.CreateToken(ctx, me, ops.ID, NewToken{Name: "deploy", Rights: []Right{RightKeysView, RightKeysRead, RightKeysCreate}, OrgID: eu.ID, ExpiresAt: month})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) != len(TokenPrefix)+36 || !wellFormed(secret, TokenPrefix) || WellFormedSecret(secret) {
		t.Fatalf("token %q", secret)
	}
	data, _ := os.ReadFile(s.Path())
	if bytes.Contains(data, []byte(secret)) {
		t.Fatal("the token is stored in clear")
	}
	list, err := s.Tokens(ctx, orgScope(orgByIDForTest(t, s, acme.ID).ids), 0)
	if err != nil || len(list) != 1 || list[0].ID != tok.ID || list[0].OrgPath != eu.Path || !list[0].LastUsedAt.IsZero() {
		t.Fatalf("Acme's tokens %+v, %v", list, err)
	}
	if list, _ := s.Tokens(ctx, orgScope(orgByIDForTest(t, s, beta.ID).ids), 0); len(list) != 0 {
		t.Fatalf("Beta sees %d tokens", len(list))
	}

	u, got, err := s.AuthenticateToken(ctx, secret)
	if err != nil || u.ID != ops.ID || got.ID != tok.ID {
		t.Fatalf("authenticate: %+v, %v", got, err)
	}
	if want := []Right{RightKeysView, RightKeysRead, RightKeysCreate}; len(u.Rights) != 3 || !u.Can(want...) || u.Can(RightKeysDelete) {
		t.Fatalf("the token's user holds %v, want %v only", u.Rights, want)
	}
	if !u.Scope().contains(orgByIDForTest(t, s, eu.ID).ids) || u.Scope().contains(orgByIDForTest(t, s, acme.ID).ids) {
		t.Fatal("the token's scope is not EU's")
	}
	// The use is written with the usage, not by the request.
	if list, _ = s.Tokens(ctx, Scope{}, ops.ID); !list[0].LastUsedAt.IsZero() {
		t.Fatal("the request wrote the token's use")
	}
	if err := s.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	list, _ = s.Tokens(ctx, Scope{}, ops.ID)
	firstUse := list[0].LastUsedAt
	if firstUse.IsZero() {
		t.Fatal("the use is not recorded")
	}
	// The use is kept to the minute: a use within it writes nothing.
	for _, c := range []struct {
		after time.Duration
		moved bool
	}{{30 * time.Second, false}, {TokenUseResolution, true}} {
		clock.Advance(c.after)
		if _, _, err := s.AuthenticateToken(ctx, secret); err != nil {
			t.Fatal(err)
		}
		if err := s.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		list, _ = s.Tokens(ctx, Scope{}, ops.ID)
		if moved := !list[0].LastUsedAt.Equal(firstUse); moved != c.moved {
			t.Fatalf("%s later: last used %s, first %s", c.after, list[0].LastUsedAt, firstUse)
		}
	}

	// A typo, another prefix, a key's secret: refused before any lookup.
	typo := secret[:len(secret)-1] + string(secret[len(secret)-1]^1)
	for _, bad := range []string{typo, "kd_" + secret[len(TokenPrefix):], NewSecret(), ""} {
		if _, _, err := s.AuthenticateToken(ctx, bad); !errors.Is(err, ErrBadToken) {
			t.Fatalf("%q: %v", bad, err)
		}
	}

	// A role with fewer rights shrinks the token's.
	if _, err := s.SetUserRole(ctx, testActor, ops.ID, RoleViewer); err != nil {
		t.Fatal(err)
	}
	if u, _, err := s.AuthenticateToken(ctx, secret); err != nil || u.Can(RightKeysCreate) || !u.Can(RightKeysRead) {
		t.Fatalf("after a role change the token's user holds %v (%v)", u.Rights, err)
	}

	// Disabled, expired, revoked, deleted: nobody gets in.
	if _, err := s.DisableUser(ctx, testActor, ops.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AuthenticateToken(ctx, secret); !errors.Is(err, ErrBadToken) {
		t.Fatalf("a disabled user's token: %v", err)
	}
	if _, err := s.EnableUser(ctx, testActor, ops.ID); err != nil {
		t.Fatal(err)
	}
	clock.Advance(31 * 24 * time.Hour)
	if _, _, err := s.AuthenticateToken(ctx, secret); !errors.Is(err, ErrBadToken) {
		t.Fatalf("an expired token: %v", err)
	}
	clock.Advance(-31 * 24 * time.Hour)
	peer := mustUser(t, s, "peer", RoleKeyManager, acme.ID)
	if _, err := s.RevokeToken(ctx, actorOf(peer), tok.ID); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("a peer without users.manage revoking: %v", err)
	}
	outsider := mustUser(t, s, "beta-admin", RoleAdministrator, beta.ID)
	if _, err := s.RevokeToken(ctx, actorOf(outsider), tok.ID); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("another organization's admin revoking: %v", err)
	}
	if _, err := s.RevokeToken(ctx, testActor, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AuthenticateToken(ctx, secret); !errors.Is(err, ErrBadToken) {
		t.Fatalf("a revoked token: %v", err)
	}
	if list, _ := s.Tokens(ctx, Scope{}, 0); len(list) != 0 {
		t.Fatalf("a revoked token is still listed: %+v", list)
	}
	_, second, err := s.CreateToken(ctx, testActor, ops.ID, NewToken{Name: "other", Rights: []Right{RightKeysRead}, ExpiresAt: month})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteUser(ctx, testActor, ops.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AuthenticateToken(ctx, second); !errors.Is(err, ErrBadToken) || count(t, s, "access_tokens") != 0 {
		t.Fatalf("a deleted user's token: %v, %d rows left", err, count(t, s, "access_tokens"))
	}
	events, _ := s.Events(ctx, Scope{}, EventQuery{EventFilter: EventFilter{Action: ActionTokenCreated}, Limit: 10})
	if len(events.Events) != 2 || !slices.ContainsFunc(events.Events, func(e Event) bool { return e.TargetID == tok.ID && e.Details["org"] == eu.Path }) {
		t.Fatalf("token events %+v", events.Events)
	}
}

// TestATokenIsCheckedWhileAWriteHoldsTheDatabase: checking a token reads
// only; its use waits for the usage flush, so a request is not held up by
// a long write such as a bulk action.
func TestATokenIsCheckedWhileAWriteHoldsTheDatabase(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, testActor, NewUser{Username: "robot", Password: "long enough password", RoleID: RoleKeyManager})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := s.CreateToken(ctx, testActor, u.ID, NewToken{Name: "ci", Rights: []Right{RightKeysView}, ExpiresAt: clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := s.writer.Conn(ctx) // the one writer, held as a bulk action holds it
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	soon, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, _, err := s.AuthenticateToken(soon, secret); err != nil {
		t.Fatalf("a token checked while a write holds the database: %v", err)
	}
}
