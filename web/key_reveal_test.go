package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keydesk/keydesk/store"
)

// vaultOrg makes an organization whose keys are recoverable.
func (tc *testConsole) vaultOrg() store.Org {
	tc.t.Helper()
	o := tc.newOrg("Vault", "")
	if _, err := tc.store.SetOrgPolicy(context.Background(), store.SystemActor("test"), o.ID, store.Policy{APIKeysEnabled: true, RecoverableKeys: true}); err != nil {
		tc.t.Fatal(err)
	}
	return o
}

// TestRevealAKey: a key created in a recoverable organization says so on
// its secret page; an administrator reveals it again with their password
// (uncached, one event each); a wrong password comes back beside the
// field and shows nothing; a Key manager has no Reveal and is refused; a
// key that is not recoverable says why.
func TestRevealAKey(t *testing.T) {
	tc := newTestConsole(t)
	vault := tc.vaultOrg()
	admin := tc.loggedIn("admin")
	res := admin.post("/keys", url.Values{"name": {"kept"}, "permissions": {"chat"}, "enabled": {"on"}, "never_expires": {"on"},
		"capacity": {"10"}, "frequency": {"60"}, "org": {vault.ID}})
	wantStatus(t, res, http.StatusCreated)
	secret := res.doc().Find("[data-testid=secret]").AttrOr("value", "")
	if !strings.Contains(res.testid("secret-kept"), "recoverable") || secret == "" {
		t.Fatalf("the created page does not say the secret is kept: %q", res.testid("secret-kept"))
	}
	k := tc.keyNamed("kept")

	page := admin.get("/keys/" + k.ID)
	if page.doc().Find("[data-testid=reveal-form]").Length() != 1 {
		t.Fatal("no Reveal form on a recoverable key's page")
	}
	if strings.Contains(page.Body.String(), secret) {
		t.Fatal("the key's page holds the secret before any reveal")
	}

	before := tc.lastEventID()
	bad := admin.post("/keys/"+k.ID+"/reveal", url.Values{"password": {"not my password"}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	if msg := bad.testid("password-error"); !strings.Contains(msg, "not your current password") || strings.Contains(bad.Body.String(), secret) {
		t.Fatalf("a wrong password: message %q", msg)
	}

	ok := admin.post("/keys/"+k.ID+"/reveal", url.Values{"password": {testPassword}})
	wantStatus(t, ok, http.StatusOK)
	if ok.Header().Get("Cache-Control") != "no-store" || ok.doc().Find("[data-testid=secret]").AttrOr("value", "") != secret {
		t.Fatalf("the revealed page: cache %q", ok.Header().Get("Cache-Control"))
	}
	revealed := 0
	for _, e := range tc.eventsSince(before) {
		if e.Action == store.ActionKeyRevealed && e.TargetID == k.ID && e.ActorUsername == "admin" {
			revealed++
		}
		if strings.Contains(mustJSON(t, e), secret) {
			t.Fatalf("an event holds the secret: %+v", e)
		}
	}
	if revealed != 1 {
		t.Fatalf("%d reveal events, want 1", revealed)
	}

	// Copy to clipboard from the list: JSON for the script.
	cp := admin.post("/keys/"+k.ID+"/reveal", url.Values{"password": {testPassword}}, "X-Keydesk-Copy", "1")
	wantStatus(t, cp, http.StatusOK)
	var got map[string]string
	if err := json.Unmarshal(cp.Body.Bytes(), &got); err != nil || got["secret"] != secret || cp.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("copy answer %s, %v", cp.Body, err)
	}
	cp = admin.post("/keys/"+k.ID+"/reveal", url.Values{"password": {"wrong"}}, "X-Keydesk-Copy", "1")
	wantStatus(t, cp, http.StatusUnprocessableEntity)
	got = nil
	if err := json.Unmarshal(cp.Body.Bytes(), &got); err != nil || !strings.Contains(got["error"], "password") || got["secret"] != "" {
		t.Fatalf("copy with a wrong password: %s", cp.Body)
	}
	list := admin.get("/keys")
	if list.doc().Find("#key-"+k.ID+" [data-testid=row-copy-secret]").Length() != 1 {
		t.Fatal("the list offers no Copy key to clipboard for a recoverable key")
	}

	// A Key manager may rotate but not reveal.
	manager := tc.loggedIn("manager")
	if manager.get("/keys/"+k.ID).doc().Find("[data-testid=reveal-form]").Length() != 0 ||
		manager.get("/keys").doc().Find("[data-testid=row-copy-secret]").Length() != 0 {
		t.Fatal("a Key manager is offered Reveal")
	}
	snap := tc.snapshot()
	wantStatus(t, manager.post("/keys/"+k.ID+"/reveal", url.Values{"password": {testPassword}}), http.StatusForbidden)
	if tc.snapshot() != snap {
		t.Fatal("a refused reveal changed something")
	}

	// A key that is not recoverable.
	plain := tc.createKey("plain")
	res = admin.post("/keys/"+plain.ID+"/reveal", url.Values{"password": {testPassword}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(res.Body.String(), "is not kept") {
		t.Fatalf("revealing a key that is not recoverable:\n%s", res.Body)
	}
	if admin.get("/keys/"+plain.ID).doc().Find("[data-testid=reveal-form]").Length() != 0 {
		t.Fatal("Reveal offered for a key that is not recoverable")
	}
}

// TestRevealIsLimited: past a burst, reveals are refused with 429 until
// time passes.
func TestRevealIsLimited(t *testing.T) {
	tc := newTestConsole(t)
	vault := tc.vaultOrg()
	k := tc.createKey("kept", func(in *store.NewKey) { in.Org = vault.ID })
	admin := tc.loggedIn("admin")
	status := 0
	for range 20 {
		if status = admin.post("/keys/"+k.ID+"/reveal", url.Values{"password": {testPassword}}).Code; status != http.StatusOK {
			break
		}
	}
	if status != http.StatusTooManyRequests {
		t.Fatalf("20 reveals in a row: last status %d, want 429", status)
	}
	tc.clock.now = tc.clock.now.Add(time.Minute)
	wantStatus(t, admin.post("/keys/"+k.ID+"/reveal", url.Values{"password": {testPassword}}), http.StatusOK)
}

// TestKeySchedule: the New key form starts with the organization's
// schedule; the schedule is set from the key's page and refused beside its
// field as typed; a due key rotated by the scheduler says on its page and
// in the list that its new secret is not collected, until it is revealed.
func TestKeySchedule(t *testing.T) {
	tc := newTestConsole(t)
	ctx := context.Background()
	acme := tc.newOrg("Acme", "")
	if _, err := tc.store.SetOrgPolicy(ctx, store.SystemActor("test"), acme.ID, store.Policy{APIKeysEnabled: true, RotateEveryDays: 365}); err != nil {
		t.Fatal(err)
	}
	tc.newUserAt("acme-admin", store.RoleAdministrator, acme)
	admin := tc.loggedIn("acme-admin")
	if got := admin.get("/keys/new").doc().Find("#rotate_every_days").AttrOr("value", "?"); got != "365" {
		t.Fatalf("the New key form starts with %q days, want the policy's 365", got)
	}
	res := admin.post("/keys", url.Values{"name": {"bad schedule"}, "permissions": {"chat"}, "never_expires": {"on"}, "rotate_every_days": {"0"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(res.testid("rotate_every_days-error"), "from 1 to 3,650") || res.doc().Find("#rotate_every_days").AttrOr("value", "") != "0" {
		t.Fatalf("a schedule of 0 days: %q", res.testid("rotate_every_days-error"))
	}
	wantStatus(t, admin.post("/keys", url.Values{"name": {"scheduled"}, "permissions": {"chat"}, "enabled": {"on"}, "never_expires": {"on"}, "rotate_every_days": {"30"}}), http.StatusCreated)
	k := tc.keyNamed("scheduled")
	if k.RotateEveryDays != 30 {
		t.Fatalf("created with a schedule of %d days", k.RotateEveryDays)
	}
	for _, typed := range []string{"0", "a month", "3651"} {
		snap := tc.snapshot()
		res := admin.post("/keys/"+k.ID+"/schedule", url.Values{"rotate_every_days": {typed}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if res.testid("rotate_every_days-error") == "" || res.doc().Find("#rotate_every_days").AttrOr("value", "") != typed || tc.snapshot() != snap {
			t.Fatalf("%q: refused wrongly", typed)
		}
	}
	wantStatus(t, admin.post("/keys/"+k.ID+"/schedule", url.Values{"rotate_every_days": {"7"}}), http.StatusSeeOther)
	page := admin.get("/keys/" + k.ID)
	if got := page.testid("rotate-due"); !strings.Contains(got, "2026-11-30") {
		t.Fatalf("next rotation: %q", got)
	}
	if !strings.Contains(page.Body.String(), "Rotated every 7 days from now on") {
		t.Fatal("the key's history does not say the schedule changed")
	}

	tc.clock.now = tc.clock.now.AddDate(0, 0, 8)
	if run, err := tc.store.RotateDueKeys(ctx); err != nil || run.Rotated != 1 {
		t.Fatalf("the scheduler: %+v, %v", run, err)
	}
	admin = tc.loggedIn("acme-admin") // eight days later, the session has ended
	page = admin.get("/keys/" + k.ID)
	if !strings.Contains(page.testid("uncollected"), "not yet collected") {
		t.Fatal("the key's page does not say the new secret is not collected")
	}
	if !strings.Contains(admin.get("/keys").testid("uncollected-badge"), "not yet collected") {
		t.Fatal("the list does not say the new secret is not collected")
	}
	res = admin.post("/keys/"+k.ID+"/reveal", url.Values{"password": {testPassword}})
	wantStatus(t, res, http.StatusOK)
	if !strings.Contains(res.testid("revealed-lead"), "no longer keeps it") {
		t.Fatalf("the collected secret's page: %q", res.testid("revealed-lead"))
	}
	if admin.get("/keys/"+k.ID).testid("uncollected") != "" || admin.get("/keys").testid("uncollected-badge") != "" {
		t.Fatal("still not collected after the reveal")
	}
}

// keyNamed finds a key by its name, wherever it is.
func (tc *testConsole) keyNamed(name string) store.Key {
	tc.t.Helper()
	var found store.Key
	_, err := tc.store.EachKey(context.Background(), store.Scope{}, store.KeyFilter{}, store.SortName, false, func(k store.Key) error {
		if k.Name == name {
			found = k
		}
		return nil
	})
	if err != nil || found.ID == "" {
		tc.t.Fatalf("no key named %q (%v)", name, err)
	}
	// EachKey leaves out what a list does not show: read the whole key.
	k, err := tc.store.Key(context.Background(), store.Scope{}, found.ID)
	if err != nil {
		tc.t.Fatal(err)
	}
	return k
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestExportHoldsRecoverableSecrets: with the right to reveal keys and the
// password typed in the last quarter of an hour, the CSV's key column holds
// the whole secret of recoverable keys, and the export's event says how
// many; without the right, later, or for other keys, the truncated form.
func TestExportHoldsRecoverableSecrets(t *testing.T) {
	tc := newTestConsole(t)
	vault := tc.vaultOrg()
	kept, secret, err := tc.store.CreateKey(context.Background(), store.Actor{Username: "admin"}, store.NewKey{
		Name: "kept", Permissions: []string{"chat"}, Enabled: true, Capacity: 1, Frequency: 1, Org: vault.ID})
	if err != nil {
		t.Fatal(err)
	}
	plain, plainSecret := tc.createKeyWithSecret("plain")
	column := func(cl *client) map[string]string {
		t.Helper()
		res := cl.get("/keys/export.csv")
		wantStatus(t, res, http.StatusOK)
		rows, err := csv.NewReader(strings.NewReader(res.Body.String())).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		key := slices.Index(rows[0], "key")
		out := map[string]string{}
		for _, r := range rows[1:] {
			out[r[0]] = r[key]
		}
		return out
	}
	before := tc.lastEventID()
	got := column(tc.loggedIn("admin"))
	if got[kept.ID] != secret || got[plain.ID] != plain.Hint || strings.Contains(got[plain.ID], plainSecret) {
		t.Fatalf("the admin's export: %q and %q", got[kept.ID], got[plain.ID])
	}
	events := tc.eventsSince(before)
	if len(events) == 0 || events[0].Action != store.ActionKeysExported || events[0].Details["secrets"] != float64(1) { // newest first
		t.Fatalf("the export's event: %+v", events)
	}
	// A quarter of an hour after the password was typed, the secrets are
	// withheld until it is typed again.
	admin := tc.loggedIn("admin")
	tc.clock.now = tc.clock.now.Add(16 * time.Minute)
	before = tc.lastEventID()
	if got := column(admin); got[kept.ID] != kept.Hint {
		t.Fatalf("an export long after the password was typed holds %q", got[kept.ID])
	}
	if events := tc.eventsSince(before); events[0].Details["secrets_withheld"] != float64(1) || events[0].Details["secrets"] != nil {
		t.Fatalf("the export's event: %+v", events[0].Details)
	}
	wantStatus(t, admin.post("/keys/"+kept.ID+"/reveal", url.Values{"password": {testPassword}}), http.StatusOK)
	if got := column(admin); got[kept.ID] != secret {
		t.Fatalf("an export after a reveal holds %q", got[kept.ID])
	}
	before = tc.lastEventID()
	if got := column(tc.loggedIn("manager")); got[kept.ID] != kept.Hint {
		t.Fatalf("a Key manager's export holds %q", got[kept.ID])
	}
	for _, e := range tc.eventsSince(before) {
		if _, ok := e.Details["secrets"]; ok && e.Action == store.ActionKeysExported {
			t.Fatalf("a Key manager's export counts secrets: %+v", e.Details)
		}
	}
}
