package e2e_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/keydesk/keydesk/store"
)

// boxes returns where the controls of a key row are in the window: its
// checkbox, name, switch and menu button, as left, top, width and height.
func (c *console) boxes(row string) []float64 {
	c.t.Helper()
	return eval[[]float64](c, `Array.from(document.querySelectorAll(`+jsString(row+` [data-testid=select-row], `+row+` [data-testid=key-name], `+row+` [data-testid=enabled-switch], `+row+` [data-testid=row-menu] summary`)+`))
		.flatMap(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })`)
}

// sameBoxes fails the test when the controls moved.
func (c *console) sameBoxes(what string, before, after []float64) {
	c.t.Helper()
	if len(before) == 0 {
		c.t.Fatalf("%s: no controls found to measure", what)
	}
	if !slices.Equal(before, after) {
		c.t.Fatalf("%s moved the next row's controls:\nbefore %v\nafter  %v", what, before, after)
	}
}

// inWindow is a script that says whether an element is wholly in the window.
func inWindow(sel string) string {
	return `(() => {
		const e = document.querySelector(` + jsString(sel) + `);
		if (!e) return false;
		const r = e.getBoundingClientRect();
		return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth;
	})()`
}

// TestNothingMovesUnderThePointer measures the controls of the next row
// before and after each thing that adds to the page: ticking a row (the
// bulk bar), the enabled switch (the row swapped and its message) and a
// confirmation opened far down the list.
func TestNothingMovesUnderThePointer(t *testing.T) {
	c := newConsole(t)
	for i := range 55 {
		c.createKey(fmt.Sprintf("steady-%02d", i))
	}
	c.login("admin", adminPassword)
	for _, width := range []int64{1440, 375} {
		c.do(chromedp.EmulateViewport(width, 800), chromedp.Navigate(c.url+"/keys"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-table]`)))
		first, next := `#key-results tbody tr:nth-child(1)`, `#key-results tbody tr:nth-child(2)`
		// Each measure starts with the control in sight: a click scrolls to it.
		c.do(chromedp.ScrollIntoView(chromedp.CSS(first + ` [data-testid=enabled-switch]`)))
		before := c.boxes(next)

		c.do(chromedp.Click(chromedp.CSS(first + ` [data-testid=select-row]`)))
		c.waitFor(`!document.querySelector('[data-testid=bulk-bar]').hidden`)
		c.sameBoxes(fmt.Sprintf("at %d px, ticking a row", width), before, c.boxes(next))
		if !eval[bool](c, inWindow(`[data-testid=bulk-bar]`)) {
			t.Fatalf("at %d px the bulk bar is out of sight", width)
		}

		was := eval[string](c, `document.querySelector(`+jsString(first+` [data-testid=enabled-switch]`)+`).getAttribute('aria-checked')`)
		c.do(chromedp.Click(chromedp.CSS(first + ` [data-testid=enabled-switch]`)))
		c.waitFor(`document.querySelector(` + jsString(first+` [data-testid=enabled-switch]`) + `).getAttribute('aria-checked') !== ` + jsString(was) + `
			&& document.querySelector('[data-testid=flash]') !== null`)
		c.sameBoxes(fmt.Sprintf("at %d px, the enabled switch", width), before, c.boxes(next))
		if !eval[bool](c, inWindow(`[data-testid=flash]`)) {
			t.Fatalf("at %d px the message is out of sight", width)
		}
		if !eval[bool](c, `document.querySelector(`+jsString(first+` [data-testid=select-row]`)+`).checked`) {
			t.Fatalf("at %d px the switch lost the row's selection", width)
		}

		// Far down the list, the confirmation still opens in sight.
		row, below := `#key-results tbody tr:nth-child(40)`, `#key-results tbody tr:nth-child(41)`
		c.do(chromedp.ScrollIntoView(chromedp.CSS(row)))
		c.openRowMenu(row)
		before = c.boxes(below)
		scrolled := eval[float64](c, `scrollY`)
		c.do(chromedp.Click(chromedp.CSS(row + ` [data-testid=row-delete]`)))
		c.waitFor(`document.getElementById('confirm-dialog').open`)
		if !eval[bool](c, inWindow(`#confirm-dialog`)) || eval[float64](c, `scrollY`) != scrolled {
			t.Fatalf("at %d px the confirmation is out of sight", width)
		}
		c.sameBoxes(fmt.Sprintf("at %d px, the confirmation", width), before, c.boxes(below))
		c.do(chromedp.KeyEvent("\x1b"))
		c.waitFor(`!document.getElementById('confirm-dialog').open`)
		c.screenshot(fmt.Sprintf("selected-%d", width))
	}
}

// stickingOut names the innermost elements that reach past the window's
// right edge.
func (c *console) stickingOut() string {
	c.t.Helper()
	return eval[string](c, `Array.from(document.querySelectorAll('body *'))
		.filter(e => e.getBoundingClientRect().right > innerWidth + 0.5 &&
			!Array.from(e.children).some(k => k.getBoundingClientRect().right > innerWidth + 0.5))
		.slice(0, 5)
		.map(e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : ''))
		.join(', ')`)
}

// TestLongNamesNeverBreakAPage gives everything a person names the
// longest name allowed, without a single place to break a line: no page
// scrolls sideways, on a phone or a desktop.
func TestLongNamesNeverBreakAPage(t *testing.T) {
	c := newConsole(t)
	ctx := t.Context()
	admin := store.Actor{Username: "admin"}
	perm, err := c.store.CreatePermission(ctx, admin, store.Permission{Name: strings.Repeat("w", 40), Description: strings.Repeat("W", 200)})
	if err != nil {
		t.Fatal(err)
	}
	all := make([]store.Right, 0, len(store.Rights))
	for _, r := range store.Rights {
		all = append(all, r.Right)
	}
	role, err := c.store.CreateRole(ctx, admin, store.RoleInput{Name: strings.Repeat("W", store.MaxRoleNameLen), Rights: all})
	if err != nil {
		t.Fatal(err)
	}
	username := strings.Repeat("w", store.MaxUsernameLen)
	u, err := c.store.CreateUser(ctx, admin, store.NewUser{Username: username, DisplayName: strings.Repeat("W", 100), Password: adminPassword, RoleID: role.ID})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := c.createKey(strings.Repeat("W", 99)+"1", func(n *store.NewKey) { n.Permissions = []string{"chat", perm.Name} })
	if _, err := c.store.RenameKey(ctx, admin, k.ID, strings.Repeat("W", 100)); err != nil {
		t.Fatal(err)
	}
	c.login(username, adminPassword)

	pages := []string{"/keys", "/keys/" + k.ID, "/events", "/users", "/users/" + strconv.FormatInt(u.ID, 10), "/roles", "/roles/" + strconv.FormatInt(role.ID, 10), "/settings", "/profile"}
	for _, width := range []int64{375, 1440} {
		c.do(chromedp.EmulateViewport(width, 800))
		for _, path := range pages {
			c.do(chromedp.Navigate(c.url + path))
			if got := eval[float64](c, `document.documentElement.scrollWidth`); got > float64(width) {
				t.Errorf("at %d px, %s is %v px wide; sticking out: %s", width, path, got, c.stickingOut())
			}
		}
	}
	// The name in the top bar may be cut short, but says it all on hover.
	if got := eval[string](c, `document.querySelector('[data-testid=whoami]').title`); got != username {
		t.Errorf("the top bar's name has the title %q", got)
	}
	for _, path := range pages {
		c.do(chromedp.Navigate(c.url + path))
		c.screenshot(strings.NewReplacer("/", "-").Replace(path))
	}
}
