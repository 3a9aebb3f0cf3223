package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/keydesk/keydesk/store"
)

// TestFirstLoginWithTheBootstrapPassword starts from an empty database, as
// a new user of the README does.
func TestFirstLoginWithTheBootstrapPassword(t *testing.T) {
	c := newEmptyConsole(t)
	password, created, err := c.store.CreateFirstAdmin(context.Background(), "")
	if err != nil || !created {
		t.Fatalf("bootstrap: %v", err)
	}
	c.do(chromedp.Navigate(c.url + "/"))
	c.waitFor(`location.pathname === '/login'`)
	c.login("admin", password)
	if c.path() != "/keys" || !strings.HasSuffix(c.text(`[data-testid=whoami]`), "admin") {
		t.Fatalf("after the first login: %s, %q", c.path(), c.text(`[data-testid=whoami]`))
	}
	if !strings.Contains(c.text(`[data-testid=empty-state]`), "No API keys yet") {
		t.Fatal("no empty state on a new console")
	}
	// The reminder to change the printed password is a warning, with a
	// link to where it is changed.
	if !eval[bool](c, `document.querySelector('[data-testid=flash]').matches('.flash-warning:not(.flash-error)')`) {
		t.Fatalf("the reminder is not a warning: %s", eval[string](c, `document.querySelector('[data-testid=flash]').outerHTML`))
	}
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=flash] a[data-testid=flash-link]`)))
	c.waitFor(`location.pathname === '/profile'`)
}

// TestNoReminderForAGivenPassword logs in with the password that was given
// at first start (KEYDESK_ADMIN_PASSWORD): nothing was printed.
func TestNoReminderForAGivenPassword(t *testing.T) {
	c := newConsole(t)
	c.login("admin", adminPassword)
	if n := eval[int](c, `document.querySelectorAll('[data-testid=flash]').length`); n != 0 {
		t.Fatalf("%d messages after logging in: %s", n, c.text(`[data-testid=flash]`))
	}
}

func TestViewerSeesNoControlsToChangeKeys(t *testing.T) {
	c := newConsole(t)
	c.addUser("vera", store.RoleViewer)
	k, _ := c.createKey("watched")
	c.login("vera", adminPassword)
	c.do(chromedp.Navigate(c.url + "/keys"))
	forbidden := `[data-testid=new-key], [data-testid=select-row], [data-testid=select-page], [data-testid=bulk-bar],
		[data-testid=enabled-switch], [data-testid=row-copy], [data-testid=row-expire], [data-testid=row-revoke], [data-testid=row-delete]`
	if n := eval[int](c, `document.querySelectorAll(`+jsString(forbidden)+`).length`); n != 0 {
		t.Fatalf("the list offers a viewer %d controls to change keys", n)
	}
	if eval[int](c, `document.querySelectorAll('.nav a').length`) != 1 {
		t.Fatal("a viewer sees more than API keys in the top bar")
	}
	c.do(chromedp.Navigate(c.url + "/keys/" + k.ID))
	if n := eval[int](c, `document.querySelectorAll('[data-testid=copy-key], [data-testid=revoke], [data-testid=delete], form[data-testid$=-form]').length`); n != 0 {
		t.Fatalf("the details page offers a viewer %d controls", n)
	}
	// Going to a form by its address is refused.
	c.do(chromedp.Navigate(c.url + "/keys/new"))
	if !strings.Contains(c.text(`[data-testid=error-message]`), "You do not have the right") {
		t.Fatal("a viewer reached the New API key form")
	}
}

func TestIdleSessionGoesToLoginAndBack(t *testing.T) {
	c := newConsole(t)
	c.createKey("idle-key")
	c.login("admin", adminPassword)
	c.do(chromedp.Navigate(c.url + "/keys?q=idle"))
	c.clock.Advance(31 * time.Minute)
	// The next request, even a search as you type, leads to the login page.
	c.do(chromedp.SendKeys(chromedp.CSS(`[data-testid=key-search]`), "-key"))
	c.waitFor(`location.pathname === '/login'`)
	if !strings.Contains(c.text(`[data-testid=flash]`), "session has ended") {
		t.Fatalf("flash %q", c.text(`[data-testid=flash]`))
	}
	c.do(
		chromedp.SendKeys(chromedp.CSS(`[data-testid=username]`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=password]`), adminPassword),
		chromedp.Click(chromedp.CSS(`[data-testid=login-submit]`)),
	)
	c.waitFor(`location.pathname === '/keys'`)
	if got := c.path(); got != "/keys?q=idle" {
		t.Fatalf("after logging in again: %s, want the page asked for", got)
	}
}

func TestValidationErrorKeepsWhatWasTyped(t *testing.T) {
	c := newConsole(t)
	c.createKey("taken-name")
	c.login("admin", adminPassword)
	c.do(
		chromedp.Navigate(c.url+"/keys/new"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=name]`), "Taken-Name"),
		chromedp.Click(chromedp.CSS(`[data-testid=perm-securemail]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=enabled]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=never-expires]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=expires-in-90]`)),
	)
	date := eval[string](c, `document.querySelector('[data-testid=expires-at]').value + 'T' + document.querySelector('[data-testid=expires-time]').value`)
	c.do(
		chromedp.Clear(chromedp.CSS(`[data-testid=capacity]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=capacity]`), "300"),
		chromedp.Click(chromedp.CSS(`[data-testid=create-key]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=name-error]`)),
	)
	if !strings.Contains(c.text(`[data-testid=name-error]`), "already exists") {
		t.Fatalf("message %q", c.text(`[data-testid=name-error]`))
	}
	kept := eval[[]any](c, `[document.querySelector('[data-testid=name]').value,
		document.querySelector('[data-testid=perm-securemail]').checked,
		document.querySelector('[data-testid=perm-chat]').checked,
		document.querySelector('[data-testid=enabled]').checked,
		document.querySelector('[data-testid=never-expires]').checked,
		document.querySelector('[data-testid=expires-at]').value + 'T' + document.querySelector('[data-testid=expires-time]').value,
		document.querySelector('[data-testid=capacity]').value,
		document.querySelector('[data-testid=name]').getAttribute('aria-invalid')]`)
	want := []any{"Taken-Name", true, false, false, false, date, "300", "true"}
	for i := range want {
		if kept[i] != want[i] {
			t.Fatalf("the form came back as %v, want %v", kept, want)
		}
	}
}

// TestKeyboardOnly creates, finds and revokes a key with the keyboard alone.
func TestKeyboardOnly(t *testing.T) {
	c := newConsole(t)
	c.createKey("keyboard-alpha")
	c.createKey("keyboard-bravo")
	c.login("admin", adminPassword)
	c.do(chromedp.Navigate(c.url + "/keys"))
	tab := func(times int) {
		for i := 0; i < times; i++ {
			c.do(chromedp.KeyEvent("\t"))
		}
	}
	focused := func() string {
		return eval[string](c, `document.activeElement.dataset.testid || document.activeElement.id || document.activeElement.tagName`)
	}
	// "/" jumps to the search; typing filters.
	c.do(chromedp.KeyEvent("/"), chromedp.KeyEvent("bravo"))
	c.waitFor(`document.querySelectorAll('[data-testid=key-row]').length === 1`)
	// Tab forward to the row menu and open it with Enter.
	for i := 0; i < 40 && focused() != "row-menu"; i++ {
		tab(1)
		if eval[string](c, `document.activeElement.tagName`) == "SUMMARY" {
			break
		}
	}
	if eval[string](c, `document.activeElement.tagName`) != "SUMMARY" {
		t.Fatalf("Tab never reached the row menu; stopped at %s", focused())
	}
	if eval[string](c, `getComputedStyle(document.activeElement).outlineStyle`) == "none" {
		t.Fatal("the focused menu button shows no focus ring")
	}
	c.do(chromedp.KeyEvent("\r"))
	c.waitFor(`document.querySelector('details.menu[open]') !== null`)
	for i := 0; i < 10 && focused() != "row-revoke"; i++ {
		tab(1)
	}
	if focused() != "row-revoke" {
		t.Fatalf("Tab never reached Revoke; stopped at %s", focused())
	}
	c.do(chromedp.KeyEvent("\r"))
	c.waitFor(`document.getElementById('confirm-dialog').open`)
	// The dialog starts on Cancel, the safe choice; Tab moves to confirm.
	if focused() != "BUTTON" || eval[string](c, `document.activeElement.textContent.trim()`) != "Cancel" {
		t.Fatalf("the dialog opened with focus on %s", eval[string](c, `document.activeElement.outerHTML`))
	}
	tab(1)
	c.do(chromedp.KeyEvent("\r"))
	c.waitFor(`document.querySelector('[data-testid=flash]')?.textContent.includes('revoked')`)
	page, _ := c.store.Keys(context.Background(), store.Scope{}, store.KeyQuery{KeyFilter: store.KeyFilter{Statuses: []store.StatusFilter{store.FilterUnavailable}}, Sort: store.SortName})
	if page.Total != 1 || page.Keys[0].Name != "keyboard-bravo" {
		t.Fatalf("revoked by keyboard: %+v", page.Keys)
	}

	// A new key from the keyboard: Enter submits the form.
	c.do(chromedp.Navigate(c.url + "/keys/new"))
	c.do(chromedp.KeyEvent("made-by-keys")) // the name field has focus
	tab(1)
	c.do(chromedp.KeyEvent(" ")) // tick the first permission
	c.do(chromedp.KeyEvent("\r"))
	c.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=secret]`)))
}

// TestEnabledSwitchInTheRow turns a key off and on from the list, in place.
func TestEnabledSwitchInTheRow(t *testing.T) {
	c := newConsole(t)
	k, _ := c.createKey("switchable")
	c.login("admin", adminPassword)
	c.do(chromedp.Navigate(c.url + "/keys"))
	eval[bool](c, `window.__stay = true`)
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=enabled-switch]`)))
	c.waitFor(`document.querySelector('[data-testid=enabled-switch]').getAttribute('aria-checked') === 'false'`)
	if c.text(`[data-testid=status]`) != "Disabled" || !strings.Contains(c.text(`[data-testid=flash]`), "disabled") {
		t.Fatalf("status %q, flash %q", c.text(`[data-testid=status]`), c.text(`[data-testid=flash]`))
	}
	if !eval[bool](c, `window.__stay === true`) {
		t.Fatal("the switch reloaded the page")
	}
	got, _ := c.store.Key(context.Background(), store.Scope{}, k.ID)
	if got.Enabled {
		t.Fatal("the key is still enabled")
	}
	c.do(chromedp.Focus(chromedp.CSS(`[data-testid=enabled-switch]`)), chromedp.KeyEvent(" "))
	c.waitFor(`document.querySelector('[data-testid=enabled-switch]').getAttribute('aria-checked') === 'true'`)
}

// TestRowMenuIsNotClipped opens the menu of the last row: all of it shows
// inside the window.
func TestRowMenuIsNotClipped(t *testing.T) {
	c := newConsole(t)
	c.createKey("only-key")
	c.login("admin", adminPassword)
	c.do(chromedp.Navigate(c.url + "/keys"))
	c.openRowMenu(`#key-results tbody tr:last-child`)
	visible := eval[bool](c, `(() => {
		const r = document.querySelector('details.menu[open] .menu-items').getBoundingClientRect();
		const hit = document.elementFromPoint(r.left + r.width / 2, r.bottom - 8);
		return r.top >= 0 && r.bottom <= innerHeight && r.height > 100 && hit && hit.closest('.menu-items') !== null;
	})()`)
	if !visible {
		t.Fatal("the row menu is clipped or hidden")
	}
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=row-delete]`)))
	c.confirm("Delete “only-key”?")
	c.waitFor(`document.querySelector('[data-testid=empty-state]') !== null`)
}

// TestFiltersKeepWorking changes the filters again and again: the sort
// chosen by a column header survives typing, and every change of a menu
// applies, not only the first.
func TestFiltersKeepWorking(t *testing.T) {
	c := newConsole(t)
	c.seed(150)
	c.login("admin", adminPassword)
	c.do(chromedp.Navigate(c.url+"/keys"), chromedp.Click(chromedp.CSS(`[data-testid=sort-uses]`)))
	c.waitFor(`location.search.includes('sort=uses')`)
	c.do(chromedp.SendKeys(chromedp.CSS(`[data-testid=key-search]`), "prod"))
	c.waitFor(`location.search.includes('q=prod')`)
	if p := c.path(); !strings.Contains(p, "sort=uses") {
		t.Fatalf("typing lost the sort: %s", p)
	}
	for _, perm := range []string{"chat", "securemail", "", "chat"} {
		// Set and announce in one script: htmx replaces the menu with
		// every answer, so a node found earlier may be gone.
		eval[bool](c, `(() => {
			const s = document.getElementById('key-permission');
			s.value = `+jsString(perm)+`;
			return s.dispatchEvent(new Event('change', {bubbles: true}));
		})()`)
		want := `!location.search.includes('permission=')`
		if perm != "" {
			want = `location.search.includes('permission=` + perm + `')`
		}
		c.waitFor(want + ` && document.getElementById('key-permission').value === ` + jsString(perm))
	}
	if p := c.path(); !strings.Contains(p, "sort=uses") || !strings.Contains(p, "q=prod") {
		t.Fatalf("the filters lost the search or the sort: %s", p)
	}
}
