package e2e_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/keydesk/keydesk/store"
)

// TestOrganizationFlow builds a small tree in the browser: create, a
// refusal beside its field, policy, rename and move, and a delete that asks
// first. Both pages pass axe.
func TestOrganizationFlow(t *testing.T) {
	c := newConsole(t)
	c.login("admin", adminPassword)
	c.do(chromedp.Navigate(c.url+"/orgs"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=empty-state]`)))
	c.checkAccessibility("orgs-empty")
	c.screenshot("orgs-empty")

	create := func(name string) {
		t.Helper()
		c.do(
			chromedp.Navigate(c.url+"/orgs"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=org-form]`)),
			chromedp.SendKeys(chromedp.CSS(`[data-testid=org-name-input]`), name),
			chromedp.Click(chromedp.CSS(`[data-testid=create-org]`)),
		)
	}
	create("Acme")
	c.waitFor(`document.querySelector('[data-testid=flash]')?.textContent.includes('Organization Acme created.')`)
	create("Beta")
	c.waitFor(`document.querySelector('[data-testid=flash]')?.textContent.includes('Organization Beta created.')`)

	// A taken name comes back beside the field, as typed.
	create("ACME")
	c.waitFor(`document.querySelector('[data-testid=name-error]')?.textContent.includes('already an organization')`)
	if got := eval[string](c, `document.querySelector('[data-testid=org-name-input]').value`); got != "ACME" {
		t.Fatalf("the name came back as %q", got)
	}
	c.checkAccessibility("orgs-error")

	// Acme's page: a policy, then a move under Beta.
	c.do(chromedp.Navigate(c.url + "/orgs"))
	c.waitFor(`document.querySelectorAll('[data-testid=org-row]').length === 3`)
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=org-row]:nth-child(2) [data-testid=org-name]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=policy-form]`)))
	c.checkAccessibility("org")
	c.screenshot("org")
	c.do(
		chromedp.SendKeys(chromedp.CSS(`[data-testid=max-keys-per-user]`), "10"),
		chromedp.Click(chromedp.CSS(`[data-testid=save-policy]`)),
	)
	c.waitFor(`document.querySelector('[data-testid=flash]')?.textContent.includes('Policy of Default/Acme saved.')`)
	if got := c.text(`[data-testid=effective-keys-per-user]`); got != "10 keys (set here)" {
		t.Fatalf("effective limit %q", got)
	}
	beta, err := c.store.OrgByPath(context.Background(), store.Scope{}, "Default/Beta")
	if err != nil {
		t.Fatal(err)
	}
	c.do(
		chromedp.SetValue(chromedp.CSS(`[data-testid=parent-select]`), beta.ID),
		chromedp.Click(chromedp.CSS(`[data-testid=save-org]`)),
	)
	c.waitFor(`document.querySelector('[data-testid=flash]')?.textContent.includes('Organization Default/Beta/Acme saved.')`)

	// Beta now holds Acme: no Delete, and why. Acme itself can go.
	c.do(chromedp.Navigate(c.url+"/orgs/"+beta.ID), chromedp.WaitVisible(chromedp.CSS(`[data-testid=delete-blocked]`)))
	c.do(chromedp.Navigate(c.url+"/orgs"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=org-table]`)))
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=org-row]:nth-child(3) [data-testid=org-name]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=delete-org]`)))
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=delete-org]`)))
	c.confirm("Delete “Default/Beta/Acme”?")
	c.waitFor(`document.querySelector('[data-testid=flash]')?.textContent.includes('Organization Default/Beta/Acme deleted.')`)
	if got := c.path(); got != "/orgs" {
		t.Fatalf("after the delete the browser is at %s", got)
	}
	if _, err := c.store.OrgByPath(context.Background(), store.Scope{}, "Default/Beta/Acme"); store.ErrorCode(err) != store.ENOTFOUND {
		t.Fatalf("Acme is still there: %v", err)
	}
}
