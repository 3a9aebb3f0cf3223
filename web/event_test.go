package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keydesk/keydesk/store"
)

// newEvents returns the events written since the newest one in before.
func (tc *testConsole) eventsSince(after int64) []store.Event {
	tc.t.Helper()
	var out []store.Event
	_, err := tc.store.EachEvent(context.Background(), store.Scope{}, store.EventFilter{}, func(e store.Event) error {
		if e.ID > after {
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		tc.t.Fatal(err)
	}
	return out
}

func (tc *testConsole) lastEventID() int64 {
	page, err := tc.store.Events(context.Background(), store.Scope{}, store.EventQuery{Limit: 1})
	if err != nil || len(page.Events) == 0 {
		return 0
	}
	return page.Events[0].ID
}

// TestEveryChangeWritesOneEvent makes each kind of change through the
// console and checks that exactly one event describes it.
func TestEveryChangeWritesOneEvent(t *testing.T) {
	tc := newTestConsole(t)
	admin := tc.loggedIn("admin")
	me, _ := tc.store.Authenticate(context.Background(), "admin", testPassword)
	type change struct {
		name, action, targetType string
		// do makes what the change needs, calls mark, makes the change and
		// returns the target's name.
		do func(mark func()) (targetName string)
	}
	post := func(path string, form url.Values) {
		t.Helper()
		if res := admin.post(path, form, "User-Agent", "audit-test/1.0"); res.Code >= 400 {
			t.Fatalf("%s: %d\n%.400s", path, res.Code, res.Body)
		}
	}
	key := func() store.Key { return tc.createKey(fresh("audited")) }
	user := func() store.User { return tc.freshUser() }
	changes := []change{
		{"create key", store.ActionKeyCreated, store.TargetKey, func(mark func()) string {
			mark()
			post("/keys", url.Values{"name": {"made-here"}, "permissions": {"chat"}, "never_expires": {"on"}})
			return "made-here"
		}},
		{"copy key", store.ActionKeyCopied, store.TargetKey, func(mark func()) string {
			k := key()
			mark()
			post("/keys", url.Values{"name": {k.Name + "_1"}, "permissions": {"chat"}, "never_expires": {"on"}, "copy_of": {k.ID}})
			return k.Name + "_1"
		}},
		{"disable", store.ActionKeyDisabled, store.TargetKey, func(mark func()) string { k := key(); mark(); post("/keys/"+k.ID+"/disable", nil); return k.Name }},
		{"enable", store.ActionKeyEnabled, store.TargetKey, func(mark func()) string {
			k := tc.createKey(fresh("off"), func(n *store.NewKey) { n.Enabled = false })
			mark()
			post("/keys/"+k.ID+"/enable", nil)
			return k.Name
		}},
		{"set expiry", store.ActionKeyExpirySet, store.TargetKey, func(mark func()) string {
			k := key()
			mark()
			post("/keys/"+k.ID+"/expire", url.Values{"expires_at": {"2030-01-01"}})
			return k.Name
		}},
		{"clear expiry", store.ActionKeyExpiryClear, store.TargetKey, func(mark func()) string {
			k := tc.createKey(fresh("dated"), func(n *store.NewKey) { n.ExpiresAt = tc.clock.now.AddDate(1, 0, 0) })
			mark()
			post("/keys/"+k.ID+"/expire", url.Values{"never_expires": {"on"}})
			return k.Name
		}},
		{"expire now", store.ActionKeyExpired, store.TargetKey, func(mark func()) string {
			k := key()
			mark()
			post("/keys/"+k.ID+"/expire", url.Values{"now": {"1"}})
			return k.Name
		}},
		{"rename", store.ActionKeyRenamed, store.TargetKey, func(mark func()) string {
			k := key()
			mark()
			post("/keys/"+k.ID+"/rename", url.Values{"name": {k.Name + "-renamed"}})
			return k.Name + "-renamed"
		}},
		{"revoke", store.ActionKeyRevoked, store.TargetKey, func(mark func()) string { k := key(); mark(); post("/keys/"+k.ID+"/revoke", nil); return k.Name }},
		{"delete", store.ActionKeyDeleted, store.TargetKey, func(mark func()) string { k := key(); mark(); post("/keys/"+k.ID+"/delete", nil); return k.Name }},
		{"export keys", store.ActionKeysExported, store.TargetKey, func(mark func()) string {
			mark()
			admin.get("/keys/export.csv?q=x", "User-Agent", "audit-test/1.0")
			return "API keys"
		}},
		{"create user", store.ActionUserCreated, store.TargetUser, func(mark func()) string {
			mark()
			post("/users", url.Values{"username": {"audited-user"}, "role": {"3"}, "password": {testPassword}, "confirm": {testPassword}})
			return "audited-user"
		}},
		{"change role", store.ActionUserRoleChanged, store.TargetUser, func(mark func()) string {
			u := user()
			mark()
			post("/users/"+itoa64(u.ID)+"/role", url.Values{"role": {"2"}})
			return u.Username
		}},
		{"disable user", store.ActionUserDisabled, store.TargetUser, func(mark func()) string {
			u := user()
			mark()
			post("/users/"+itoa64(u.ID)+"/disable", nil)
			return u.Username
		}},
		{"reset password", store.ActionPasswordReset, store.TargetUser, func(mark func()) string {
			u := user()
			mark()
			post("/users/"+itoa64(u.ID)+"/password", url.Values{"password": {"a reset password"}, "confirm": {"a reset password"}})
			return u.Username
		}},
		{"delete user", store.ActionUserDeleted, store.TargetUser, func(mark func()) string {
			u := user()
			mark()
			post("/users/"+itoa64(u.ID)+"/delete", nil)
			return u.Username
		}},
		{"create role", store.ActionRoleCreated, store.TargetRole, func(mark func()) string {
			mark()
			post("/roles", url.Values{"name": {"Audited"}, "rights": {"audit.view"}})
			return "Audited"
		}},
		{"update role", store.ActionRoleUpdated, store.TargetRole, func(mark func()) string {
			r := tc.freshRole()
			mark()
			post("/roles/"+itoa64(r.ID), url.Values{"name": {r.Name}, "rights": {"apikeys.view"}})
			return r.Name
		}},
		{"delete role", store.ActionRoleDeleted, store.TargetRole, func(mark func()) string {
			r := tc.freshRole()
			mark()
			post("/roles/"+itoa64(r.ID)+"/delete", nil)
			return r.Name
		}},
		{"settings", store.ActionSettingsChanged, store.TargetSettings, func(mark func()) string {
			mark()
			post("/settings", url.Values{"retention_days": {"90"}})
			return "Event retention"
		}},
		{"add permission", store.ActionPermissionCreated, store.TargetPermission, func(mark func()) string {
			mark()
			post("/settings/permissions", url.Values{"name": {"voice"}, "description": {"Voice calls."}})
			return "voice"
		}},
		{"export events", store.ActionEventsExported, store.TargetEvents, func(mark func()) string {
			mark()
			admin.get("/events/export.csv", "User-Agent", "audit-test/1.0")
			return "Audit log"
		}},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			var last int64
			name := c.do(func() { last = tc.lastEventID() })
			evs := tc.eventsSince(last)
			if len(evs) != 1 {
				var actions []string
				for _, e := range evs {
					actions = append(actions, e.Action)
				}
				t.Fatalf("%d events (%v), want exactly one", len(evs), actions)
			}
			e := evs[0]
			if e.Action != c.action || e.TargetType != c.targetType || e.TargetName != name {
				t.Fatalf("event %s %s %q, want %s %s %q", e.Action, e.TargetType, e.TargetName, c.action, c.targetType, name)
			}
			if e.ActorUsername != "admin" || e.ActorID != me.ID || e.ClientAddr != "192.0.2.1" || e.At != tc.clock.now {
				t.Fatalf("event by %q (%d) from %q at %v", e.ActorUsername, e.ActorID, e.ClientAddr, e.At)
			}
			if e.UserAgent != "audit-test/1.0" {
				t.Fatalf("user agent %q", e.UserAgent)
			}
		})
	}
}

func TestFailedChangesLeaveNoEvent(t *testing.T) {
	tc := newTestConsole(t)
	admin := tc.loggedIn("admin")
	k := tc.createKey("taken")
	last := tc.lastEventID()
	admin.post("/keys", url.Values{"name": {"TAKEN"}, "permissions": {"chat"}, "never_expires": {"on"}})
	admin.post("/keys/"+k.ID+"/expire", url.Values{"expires_at": {"2001-01-01"}})
	admin.post("/keys/"+k.ID+"/rename", url.Values{"name": {""}})
	admin.post("/keys/bulk", url.Values{"action": {"delete"}, "id": {k.ID, "nosuchkey0000000"}})
	admin.post("/users", url.Values{"username": {"x"}, "role": {"3"}, "password": {"short"}, "confirm": {"short"}})
	admin.post("/settings", url.Values{"retention_days": {"-5"}})
	if evs := tc.eventsSince(last); len(evs) != 0 {
		t.Fatalf("failed changes left %d events, the first %s", len(evs), evs[0].Action)
	}
}

func TestNoEventHoldsASecret(t *testing.T) {
	tc := newTestConsole(t)
	admin := tc.loggedIn("admin")
	res := admin.post("/keys", url.Values{"name": {"secretive"}, "permissions": {"chat"}, "never_expires": {"on"}})
	secret := res.doc().Find(`[data-testid=secret]`).AttrOr("value", "")
	if !store.WellFormedSecret(secret) {
		t.Fatal("no secret")
	}
	admin.post("/profile/password", url.Values{"current": {testPassword}, "password": {"the next password"}, "confirm": {"the next password"}})
	tc.client().post("/login", url.Values{"username": {"admin"}, "password": {"a guessed password"}})
	export := admin.get("/events/export.csv").Body.String()
	for _, leak := range []string{secret, secret[3:20], "the next password", "a guessed password", testPassword, "argon2"} {
		if strings.Contains(export, leak) {
			t.Fatalf("the audit log holds %q", leak)
		}
	}
	if !strings.Contains(export, "key.created") || !strings.Contains(export, "login.failed") {
		t.Fatal("the export lacks the events")
	}
}

func TestEventsPage(t *testing.T) {
	tc := newTestConsole(t)
	admin := tc.loggedIn("admin")
	k := tc.createKey("=cmd|' /C calc'!A0")
	admin.post("/keys/"+k.ID+"/disable", nil)
	admin.post("/keys/"+k.ID+"/delete", nil)

	page := admin.get("/events")
	wantStatus(t, page, http.StatusOK)
	rows := page.doc().Find(`[data-testid=event-row]`)
	if rows.Length() < 4 || rows.First().AttrOr("data-action", "") != store.ActionKeyDeleted {
		t.Fatalf("%d rows, newest %q", rows.Length(), rows.First().AttrOr("data-action", ""))
	}
	// A deleted key's events are found by its id and by its name.
	for _, q := range []string{k.ID, "cmd calc"} {
		res := admin.get("/events?q=" + url.QueryEscape(q) + "&actor=admin")
		if n := res.doc().Find(`[data-testid=event-row]`).Length(); n != 3 {
			t.Fatalf("search %q: %d events, want its creation, disabling and deletion", q, n)
		}
	}
	frag := admin.get("/events?action=key.disabled", "HX-Request", "true", "HX-Trigger", "event-filters")
	if frag.Header().Get("HX-Replace-Url") != "/events?action=key.disabled" || strings.Contains(frag.Body.String(), "<html") {
		t.Fatal("the htmx answer is not a fragment with the URL")
	}
	if n := frag.doc().Find(`[data-testid=event-row]`).Length(); n != 1 {
		t.Fatalf("action filter: %d rows", n)
	}
	// Dates: today has them, yesterday none.
	if n := admin.get("/events?from=2026-11-23&to=2026-11-23").doc().Find(`[data-testid=event-row]`).Length(); n == 0 {
		t.Fatal("no events today")
	}
	if admin.get("/events?to=2026-11-22").doc().Find(`[data-testid=no-events]`).Length() != 1 {
		t.Fatal("events before today")
	}
	for _, bad := range []string{"action=key.exploded", "from=yesterday", "from=2026-12-01&to=2026-11-01", "before=x", "before=1&after=2"} {
		wantStatus(t, admin.get("/events?"+bad), http.StatusBadRequest)
	}
	// The export neutralises formulas in every cell.
	rowsCSV, err := csv.NewReader(strings.NewReader(admin.get("/events/export.csv?q=" + k.ID).Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rowsCSV[0][3] != "action" || len(rowsCSV) != 4 {
		t.Fatalf("export: %d rows, header %v", len(rowsCSV), rowsCSV[0])
	}
	for _, r := range rowsCSV[1:] {
		if r[6] != "'=cmd|' /C calc'!A0" {
			t.Fatalf("target name cell %q", r[6])
		}
	}
	// The key's page shows its history.
	k2 := tc.createKey("history")
	admin.post("/keys/"+k2.ID+"/rename", url.Values{"name": {"history-2"}})
	hist := admin.get("/keys/" + k2.ID).testid("history")
	if !strings.HasPrefix(hist, "Renamed from “history” to “history-2”") || !strings.Contains(hist, "Created") {
		t.Fatalf("history %q", hist)
	}
}

func TestLoginsAndLogoutsAreRecorded(t *testing.T) {
	tc := newTestConsole(t)
	last := tc.lastEventID()
	cl := tc.client()
	cl.post("/login", url.Values{"username": {"Admin"}, "password": {"wrong password!"}})
	cl.post("/login", url.Values{"username": {"admin"}, "password": {testPassword}})
	cl.post("/logout", nil)
	tc.loggedIn("viewer").get("/users")
	var got []string
	for _, e := range tc.eventsSince(last) {
		got = append(got, e.Action+" "+e.TargetName)
	}
	want := "access.denied GET /users|login.succeeded viewer|logout admin|login.succeeded admin|login.failed admin"
	if strings.Join(got, "|") != want {
		t.Fatalf("events %q\nwant   %q", strings.Join(got, "|"), want)
	}
}
