package e2e_test

import (
	"net/url"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/keydesk/keydesk/store"
)

// TestPagesAreAccessible visits every page of the console: axe-core finds
// no serious or critical violation on any, and each is saved as a
// screenshot when KEYDESK_SCREENSHOTS=DIR is set.
func TestPagesAreAccessible(t *testing.T) {
	c := newConsole(t)
	visit := func(path, ready, name string) {
		t.Helper()
		c.do(chromedp.Navigate(c.url+path), chromedp.WaitVisible(chromedp.CSS(ready)))
		c.checkAccessibility(name)
		c.screenshot(name)
	}
	visit("/login", `[data-testid=login-form]`, "login")
	c.login("admin", adminPassword)
	visit("/keys", `[data-testid=empty-state]`, "empty-list")
	c.seed(120)
	// Organizations, so that the list, the forms and their menus show them.
	acme, err := c.store.CreateOrg(t.Context(), store.SystemActor("test"), "Acme", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.store.CreateOrg(t.Context(), store.SystemActor("test"), "EU", acme.ID); err != nil {
		t.Fatal(err)
	}
	c.createKey("acme-billing", func(k *store.NewKey) { k.Org = acme.ID })
	k, _ := c.createKey("revoked-key")
	if _, err := c.store.RevokeKey(t.Context(), store.Actor{Username: "admin"}, k.ID); err != nil {
		t.Fatal(err)
	}
	visit("/keys", `[data-testid=key-table]`, "list")
	visit("/keys?q=zzzz", `[data-testid=no-match]`, "no-match")
	visit("/keys/new", `[data-testid=key-form]`, "new-key")
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=create-key]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=form-summary]`)))
	c.checkAccessibility("new-key-errors")
	c.screenshot("new-key-errors")
	c.do(
		chromedp.SendKeys(chromedp.CSS(`[data-testid=name]`), "accessible"),
		chromedp.Click(chromedp.CSS(`[data-testid=perm-chat]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=create-key]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=secret]`)),
	)
	c.checkAccessibility("secret")
	c.screenshot("secret")
	visit("/keys/"+k.ID, `[data-testid=revoked-banner]`, "details-revoked")
	page, _ := c.store.Keys(t.Context(), store.Scope{}, store.KeyQuery{KeyFilter: store.KeyFilter{Search: "accessible"}, Sort: store.SortName})
	visit("/keys/"+page.Keys[0].ID, `[data-testid=facts]`, "details")
	used, usedSecret := c.createKey("used-key")
	for i := range 40 {
		perm := ""
		if i%8 == 0 {
			perm = "not-its-permission"
		}
		if _, err := c.store.VerifyKey(t.Context(), usedSecret, perm, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.store.FlushUsage(t.Context()); err != nil {
		t.Fatal(err)
	}
	visit("/keys/"+used.ID, `[data-testid=usage-chart]`, "details-usage")
	visit("/activity", `[data-testid=top-used]`, "activity")
	visit("/keys/test", `[data-testid=test-form]`, "test-key")
	visit("/users", `[data-testid=user-table]`, "users")
	visit("/users/new", `[data-testid=user-form]`, "new-user")
	visit("/users/1", `[data-testid=own-account-note]`, "own-user")
	c.addUser("viewer", store.RoleViewer)
	viewer, err := c.store.Login(t.Context(), store.Actor{ClientAddr: "192.0.2.1"}, "viewer", adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	visit("/users/"+strconv.FormatInt(viewer.ID, 10), `[data-testid=role-form]`, "user")
	visit("/roles", `[data-testid=role-table]`, "roles")
	visit("/roles/2", `[data-testid=role-form]`, "role")
	visit("/roles/new", `[data-testid=role-form]`, "new-role")
	visit("/events", `[data-testid=event-table]`, "events")
	visit("/events?q="+url.QueryEscape("nothing-like-this"), `[data-testid=no-events]`, "no-events")
	visit("/settings", `[data-testid=settings-form]`, "settings")
	visit("/orgs", `[data-testid=org-table]`, "orgs")
	visit("/orgs/"+acme.ID, `[data-testid=policy-form]`, "org")
	visit("/profile", `[data-testid=password-form]`, "profile")
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=new-calendar]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=calendar-url]`)))
	c.checkAccessibility("profile-calendar")
	c.screenshot("profile-calendar")
	visit("/webhooks", `[data-testid=empty-state]`, "webhooks-empty")
	c.do(
		chromedp.SendKeys(chromedp.CSS(`[data-testid=webhook-url-input]`), "https://hooks.example.com/keydesk"),
		chromedp.Click(chromedp.CSS(`[data-testid=create-webhook]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=secret]`)),
	)
	c.checkAccessibility("webhook-secret")
	c.screenshot("webhook-secret")
	hooks, err := c.store.Webhooks(t.Context(), store.Scope{})
	if err != nil || len(hooks) != 1 {
		t.Fatalf("webhooks %v, %v", hooks, err)
	}
	if _, err := c.store.QueueTestEvent(t.Context(), store.SystemActor("test"), hooks[0].ID); err != nil {
		t.Fatal(err)
	}
	visit("/webhooks", `[data-testid=webhook-table]`, "webhooks")
	visit("/webhooks/"+hooks[0].ID, `[data-testid=delivery-table]`, "webhook")
	visit("/keys/nosuchkey0000000", `[data-testid=error-message]`, "not-found")

	// The confirmation dialog, open.
	c.do(chromedp.Navigate(c.url+"/keys/"+page.Keys[0].ID), chromedp.Click(chromedp.CSS(`[data-testid=revoke]`)))
	c.waitFor(`document.getElementById('confirm-dialog').open`)
	c.checkAccessibility("confirm-dialog")
	c.screenshot("confirm-dialog")
}
