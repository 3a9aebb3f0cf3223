package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/web"
)

// The provisioning examples of the contact-centre product, through a real
// Keydesk over HTTP with only the address and the token changed: a tenant's
// key, a cluster key whose nexus:cluster:* grants nexus:cluster:admin, and
// a Designer key beside the consumer's. Each secret verifies with the
// permission it was made for; sending a request again makes no second key.
func TestProvisioningExamples(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "keydesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// As serve does: a master key, which seals the answers kept for retries.
	st.SetMasterKey(func() (*store.MasterKey, error) { return store.ParseMasterKey(store.GenerateMasterKey()) })
	h, err := web.New(ctx, st, web.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	actor := store.SystemActor("test")
	for _, p := range []string{"nexus:consumer:chat", "nexus:designer:chat", "nexus:cluster:*"} {
		if _, err := st.CreatePermission(ctx, actor, store.Permission{Name: p, Description: "provisioning"}); err != nil {
			t.Fatal(err)
		}
	}
	acme, err := st.CreateOrg(ctx, actor, "Acme", "")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := st.CreateUser(ctx, actor, store.NewUser{Username: "ops", Password: "a long enough password", RoleID: store.RoleAdministrator})
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := st.CreateToken(ctx, actor, admin.ID, store.NewToken{Name: "provisioning",
		Rights: []store.Right{store.RightKeysView, store.RightKeysRead, store.RightKeysCreate}, ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		tenant, name, permission, asks, at string
	}{
		{acme.ID, "API key for Acme", "nexus:consumer:chat", "nexus:consumer:chat", acme.ID},
		{"*", "Cluster API key", "nexus:cluster:*", "nexus:cluster:admin", acme.ID},
		{acme.ID, "Designer API key", "nexus:designer:chat", "nexus:designer:chat", acme.ID},
	} {
		k, err := CreateKey(ctx, srv.Client(), srv.URL, token, c.tenant, c.name, []string{c.permission})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if k.Tenant != c.tenant || k.Name != c.name || !store.WellFormedSecret(k.Secret) {
			t.Fatalf("%s: %+v", c.name, k)
		}
		if got := verify(t, srv.URL, k.Secret, c.asks, c.at); got["valid"] != true || got["id"] != k.ID {
			t.Fatalf("%s asked for %s at Acme: %v", c.name, c.asks, got)
		}
		if got := verify(t, srv.URL, k.Secret, "nexus:other:chat", c.at); got["code"] != store.CodePermissionDenied {
			t.Fatalf("%s asked for another permission: %v", c.name, got)
		}
		again, err := CreateKey(ctx, srv.Client(), srv.URL, token, c.tenant, c.name, []string{c.permission})
		if err != nil || again.ID != k.ID {
			t.Fatalf("%s sent again: %+v, %v", c.name, again, err)
		}
	}
	page, err := st.Keys(ctx, store.Scope{}, store.KeyQuery{Sort: store.SortName, Limit: 10})
	if err != nil || page.Total != 3 {
		t.Fatalf("%d keys, want 3: %v", page.Total, err)
	}

	_, err = CreateKey(ctx, srv.Client(), srv.URL, token, "no-such-tenant", "x", []string{"nexus:consumer:chat"})
	if err == nil || !strings.Contains(err.Error(), "INVALID tenant") {
		t.Fatalf("an unknown tenant: %v", err)
	}
	_, err = CreateKey(ctx, srv.Client(), srv.URL, "kdp_nothing", acme.ID, "x", []string{"nexus:consumer:chat"})
	if err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED") {
		t.Fatalf("a wrong token: %v", err)
	}
}

// verify asks the verification API about a secret over HTTP.
func verify(t *testing.T, base, secret, permission, org string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"key": secret, "permission": permission, "org": org})
	res, err := http.Post(base+"/api/v1/keys/verify", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}
