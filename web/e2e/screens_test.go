package e2e_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestScreens visits the main pages, for screenshots
// (KEYDESK_SCREENSHOTS=DIR) and as a smoke test that each renders.
func TestScreens(t *testing.T) {
	c := newConsole(t)
	c.login("admin", adminPassword)
	visit := func(path, ready, name string) {
		t.Helper()
		c.do(chromedp.Navigate(c.url+path), chromedp.WaitVisible(chromedp.CSS(ready)))
		c.screenshot(name)
	}
	visit("/keys", `[data-testid=empty-state]`, "empty")
	c.seed(120)
	visit("/keys", `[data-testid=key-table]`, "list")
	visit("/keys/new", `[data-testid=key-form]`, "new")
	visit("/users", `[data-testid=user-table]`, "users")
	visit("/users/new", `[data-testid=user-form]`, "user-new")
	visit("/users/1", `[data-testid=role-form]`, "user")
	visit("/roles", `[data-testid=role-table]`, "roles")
	visit("/roles/2", `[data-testid=role-form]`, "role")
	visit("/profile", `[data-testid=password-form]`, "profile")
	visit("/events", `[data-testid=event-table]`, "events")
	visit("/settings", `[data-testid=settings-form]`, "settings")
}
