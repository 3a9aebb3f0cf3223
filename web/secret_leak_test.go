package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/keydesk/keydesk/internal/lockedbuf"
	"github.com/keydesk/keydesk/internal/pgtest"
	"github.com/keydesk/keydesk/store"
)

// TestNoSecretLeaks makes secrets every way the console makes them
// (create, rotate, bulk rotate, a scheduled rotation, recoverable keys,
// reveal, copy, an export that holds them), then looks for each of them in
// the database file, its WAL, the server's log at debug level, and every
// page and download that is not the one answer meant to show it.
func TestNoSecretLeaks(t *testing.T) {
	if pgtest.OnPostgres() {
		// The store's PostgreSQL half checks that no column keeps a secret
		// (TestCreateKeyStoresOnlyTheHash).
		t.Skip("reads SQLite's file and its log")
	}
	tc := newTestConsole(t)
	var logged lockedbuf.Buffer
	h, err := New(t.Context(), tc.store, Config{Logger: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	tc.h = h
	ctx := context.Background()
	vault := tc.vaultOrg()
	admin := tc.loggedIn("admin")
	var secrets []string
	keep := func(res response, testid string) {
		t.Helper()
		res.doc().Find("[data-testid=" + testid + "]").Each(func(_ int, sel *goquery.Selection) {
			v := sel.AttrOr("value", "")
			if v == "" {
				v = strings.TrimSpace(sel.Text())
			}
			secrets = append(secrets, v)
		})
	}
	for i, org := range []string{"", vault.ID} {
		res := admin.post("/keys", url.Values{"name": {"leak " + string(rune('a'+i))}, "permissions": {"chat"}, "enabled": {"on"},
			"never_expires": {"on"}, "org": {org}, "rotate_every_days": {"1"}})
		wantStatus(t, res, http.StatusCreated)
		keep(res, "secret")
	}
	plain, kept := tc.keyNamed("leak a"), tc.keyNamed("leak b")
	res := admin.post("/keys/"+plain.ID+"/rotate", url.Values{"grace_days": {"5"}})
	wantStatus(t, res, http.StatusCreated)
	keep(res, "secret")
	res = admin.post("/keys/bulk", url.Values{"action": {"rotate"}, "id": {plain.ID, kept.ID}})
	wantStatus(t, res, http.StatusCreated)
	keep(res, "rotated-secret")
	tc.clock.now = tc.clock.now.AddDate(0, 0, 2)
	if run, err := tc.store.RotateDueKeys(ctx); err != nil || run.Rotated != 2 {
		t.Fatalf("the scheduler: %+v, %v", run, err)
	}
	admin = tc.loggedIn("admin")
	for _, k := range []store.Key{plain, kept} {
		res = admin.post("/keys/"+k.ID+"/reveal", url.Values{"password": {testPassword}})
		wantStatus(t, res, http.StatusOK)
		keep(res, "secret")
	}
	if len(secrets) != 7 {
		t.Fatalf("collected %d secrets, want 7: %v", len(secrets), secrets)
	}
	for _, s := range secrets {
		if !store.WellFormedSecret(s) {
			t.Fatalf("collected %q, not a secret", s)
		}
		// Verify each, so that the cache and the usage flush see them.
		verifyAnswer(t, tc, s)
	}
	// Secrets that may show again: through the copy route and the export.
	cp := admin.post("/keys/"+kept.ID+"/reveal", url.Values{"password": {testPassword}}, "X-Keydesk-Copy", "1")
	wantStatus(t, cp, http.StatusOK)
	wantStatus(t, admin.get("/keys/export.csv"), http.StatusOK)
	// A wrong password and a forged request, for the log.
	admin.post("/keys/"+kept.ID+"/reveal", url.Values{"password": {secrets[0]}})
	admin.post("/login", url.Values{"username": {"admin"}, "password": {secrets[1]}})

	var pages bytes.Buffer
	manager := tc.loggedIn("manager")
	for _, path := range []string{"/keys", "/keys?q=leak", "/keys/" + plain.ID, "/keys/" + kept.ID, "/events", "/events?q=leak",
		"/events/export.csv", "/keys/export.csv", "/orgs", "/orgs/" + vault.ID, "/settings", "/profile"} {
		for _, cl := range []*client{admin, manager} {
			res := cl.get(path)
			if path == "/keys/export.csv" && cl == admin {
				continue // holds the recoverable secret, by design
			}
			pages.WriteString(res.Body.String())
		}
	}
	if err := tc.store.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	path := tc.store.Path()
	db, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(path + "-wal")
	places := map[string][]byte{"the database file": db, "the WAL": wal, "the log": []byte(logged.String()), "the pages": pages.Bytes()}
	for _, s := range secrets {
		for where, data := range places {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s holds the secret %s…", where, s[:8])
			}
		}
	}
	if len(wal) == 0 && len(db) < 4096 {
		t.Fatal("nothing was read from the database: the test proves nothing")
	}
}
