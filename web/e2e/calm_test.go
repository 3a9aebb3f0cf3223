package e2e_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

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

// TestFailuresAreNeverSilent makes the server fail, then stops it: a search
// marks the table out of date and offers to retry, Retry brings the table
// in line with the search box, and a switch that cannot reach the server
// says so.
func TestFailuresAreNeverSilent(t *testing.T) {
	c := newConsole(t)
	for i := range 30 {
		c.createKey(fmt.Sprintf("steady-%02d", i))
	}
	c.login("admin", adminPassword)
	c.do(chromedp.Navigate(c.url+"/keys"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-table]`)))

	// A server error: the old table stays, marked, and Retry is offered.
	c.faults.failing.Store(true)
	c.do(chromedp.SendKeys(chromedp.CSS(`[data-testid=key-search]`), "steady-1"))
	c.waitFor(`document.querySelector('[role=alert] [data-testid=retry]') !== null`)
	c.waitFor(`document.getElementById('key-results').classList.contains('stale')`)
	if !strings.Contains(c.text(`[data-testid=stale-note]`), "out of date") {
		t.Fatalf("stale note %q", c.text(`[data-testid=stale-note]`))
	}
	if n := len(c.rows()); n != 30 {
		t.Fatalf("the failed search left %d rows, want the old 30", n)
	}
	if !eval[bool](c, inWindow(`[data-testid=retry]`)) {
		t.Fatal("the Retry button is out of sight")
	}
	c.screenshot("stale")

	// The server is back: Retry shows what the search box asks for.
	c.faults.failing.Store(false)
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=retry]`)))
	c.waitFor(`location.search.includes('q=steady-1') && !document.getElementById('key-results').classList.contains('stale')`)
	page, err := c.store.Keys(t.Context(), store.Scope{}, store.KeyQuery{KeyFilter: store.KeyFilter{Search: "steady-1"}, Sort: store.SortName, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, k := range page.Keys {
		want = append(want, k.Name)
	}
	if got := c.rows(); len(want) == 30 || !slices.Equal(got, want) {
		t.Fatalf("after Retry the table shows %v, want %v", got, want)
	}
	if eval[bool](c, `document.querySelector('[data-testid=retry]') !== null`) {
		t.Fatal("the failure is still shown after Retry worked")
	}

	// No server at all: the switch says it could not reach it.
	c.stopServer()
	sw := `#key-results tbody tr:nth-child(1) [data-testid=enabled-switch]`
	c.do(chromedp.Click(chromedp.CSS(sw)))
	c.waitFor(`document.querySelector('[role=alert] [data-testid=retry]') !== null`)
	if !strings.Contains(c.text(`[role=alert]`), "could not be reached") {
		t.Fatalf("message %q", c.text(`[role=alert]`))
	}
	if eval[string](c, `document.querySelector(`+jsString(sw)+`).getAttribute('aria-checked')`) != "true" {
		t.Fatal("the switch shows a change that was never made")
	}
	// And typing marks the table out of date again.
	c.do(chromedp.SendKeys(chromedp.CSS(`[data-testid=key-search]`), "2"))
	c.waitFor(`document.getElementById('key-results').classList.contains('stale')`)
}

// TestFastTypingLogsNothing types while a search is still on its way: the
// next search waits its turn instead of aborting it, so htmx logs no error.
func TestFastTypingLogsNothing(t *testing.T) {
	c := newConsole(t)
	for i := range 12 {
		c.createKey(fmt.Sprintf("quiet-%02d", i))
	}
	c.login("admin", adminPassword)
	c.do(chromedp.Navigate(c.url+"/keys"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-table]`)))
	var mu sync.Mutex
	var logged []string
	if err := chromedp.Listen(c.tab, func(ev any) {
		if e, ok := ev.(*runtime.EventConsoleAPICalled); ok && (e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning) {
			mu.Lock()
			logged = append(logged, string(e.Type))
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	eval[bool](c, `(() => {
		window.__issued = 0; window.__aborted = 0;
		document.addEventListener('htmx:confirm', e => { if (e.target.id === 'key-filters') window.__issued++; });
		document.addEventListener('htmx:sendAbort', () => window.__aborted++);
		return true;
	})()`)
	release := c.faults.holdRequests()
	c.do(chromedp.SendKeys(chromedp.CSS(`[data-testid=key-search]`), "quiet-1"))
	c.waitFor(`document.getElementById('key-filters').classList.contains('htmx-request')`)
	// The next keystroke's search is asked for while the first is held.
	c.do(chromedp.SendKeys(chromedp.CSS(`[data-testid=key-search]`), "1"))
	c.waitFor(`window.__issued >= 2`)
	release()
	c.waitFor(`location.search.includes('q=quiet-11') && document.querySelectorAll('[data-testid=key-row]').length === 1`)
	if got := c.rows(); !slices.Equal(got, []string{"quiet-11"}) {
		t.Fatalf("rows %v", got)
	}
	if n := eval[int](c, `window.__aborted`); n != 0 {
		t.Fatalf("%d searches were aborted", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logged) != 0 {
		t.Fatalf("the console got %d errors or warnings", len(logged))
	}
}

// TestFocusGoesWhereItShould: arrow keys move through a row menu; a
// confirmation closes the menu behind it and gives focus back to what
// opened it; a rejected form starts at the field in error.
func TestFocusGoesWhereItShould(t *testing.T) {
	c := newConsole(t)
	k, _ := c.createKey("focus-alpha")
	c.createKey("focus-bravo")
	c.login("admin", adminPassword)
	c.do(chromedp.Navigate(c.url + "/keys"))
	row := `#key-results tbody tr:nth-child(1)`
	focused := func() string {
		return eval[string](c, `(() => { const a = document.activeElement; return a.dataset.testid || a.textContent.trim() || a.tagName; })()`)
	}
	key := func(k string) {
		t.Helper()
		c.do(chromedp.KeyEvent(k))
	}
	c.do(chromedp.Focus(chromedp.CSS(row + ` [data-testid=row-menu] summary`)))
	key("\r")
	c.waitFor(`document.querySelector('details.menu[open]') !== null`)
	steps := []struct{ key, want string }{
		{kb.ArrowDown, "Details"},
		{kb.ArrowDown, "row-copy"},
		{kb.End, "row-delete"},
		{kb.ArrowDown, "Details"}, // round to the first
		{kb.ArrowUp, "row-delete"},
		{kb.Home, "Details"},
	}
	for _, s := range steps {
		key(s.key)
		if got := focused(); got != s.want {
			t.Fatalf("after %q focus is on %q, want %q", s.key, got, s.want)
		}
	}
	key(kb.Escape)
	c.waitFor(`document.querySelector('details.menu[open]') === null`)
	if !eval[bool](c, `document.activeElement.matches(`+jsString(row+` summary`)+`)`) {
		t.Fatalf("Escape left focus on %q", focused())
	}

	// Revoke from the menu: the menu closes behind the dialog; cancelling
	// gives focus back to the menu button.
	key(kb.ArrowDown) // opens the menu on its first item
	for range 10 {
		if focused() == "row-revoke" {
			break
		}
		key(kb.ArrowDown)
	}
	key("\r")
	c.waitFor(`document.getElementById('confirm-dialog').open`)
	if eval[bool](c, `document.querySelector('details.menu[open]') !== null`) {
		t.Fatal("the row menu stays open behind the dialog")
	}
	// The dialog's close event, which gives focus back, comes a moment
	// after it closes.
	key(kb.Escape)
	c.waitFor(`!document.getElementById('confirm-dialog').open && document.activeElement.matches(` + jsString(row+` summary`) + `)`)

	// On the details page, Cancel gives focus back to the button.
	c.do(chromedp.Navigate(c.url+"/keys/"+k.ID), chromedp.Click(chromedp.CSS(`[data-testid=revoke]`)))
	c.waitFor(`document.getElementById('confirm-dialog').open`)
	c.do(chromedp.Click(chromedp.CSS(`#confirm-dialog button[value=cancel]`)))
	c.waitFor(`!document.getElementById('confirm-dialog').open && document.activeElement.dataset.testid === 'revoke'`)

	// A rejected form starts at the first field in error.
	c.do(
		chromedp.Navigate(c.url+"/users/new"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=username]`), "newcomer"),
		chromedp.SetValue(chromedp.CSS(`[data-testid=role]`), strconv.FormatInt(store.RoleViewer, 10)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=password]`), adminPassword),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=confirm]`), "not the same at all"),
		chromedp.Click(chromedp.CSS(`[data-testid=create-user]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=confirm-error]`)),
	)
	c.waitFor(`document.activeElement.id === 'confirm'`)
}

// TestPhoneLayout looks at the key list on a 375 by 667 phone: the
// sections fit on one row, the first key shows without scrolling, the page
// can be selected, the bulk bar is small and its count on one line, and a
// touch screen shows no "/" shortcut.
func TestPhoneLayout(t *testing.T) {
	c := newConsole(t)
	for i := range 60 {
		c.createKey(fmt.Sprintf("phone-%02d", i))
	}
	c.login("admin", adminPassword)
	c.do(chromedp.EmulateViewport(375, 667, chromedp.EmulateMobile, chromedp.EmulateTouch), chromedp.Navigate(c.url+"/keys"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-table]`)))
	if n := eval[int](c, `new Set(Array.from(document.querySelectorAll('.nav a')).map(a => Math.round(a.getBoundingClientRect().top))).size`); n != 1 {
		t.Errorf("the sections take %d rows", n)
	}
	if !eval[bool](c, `(() => { const r = document.querySelector('.nav').getBoundingClientRect(); return r.right <= innerWidth; })()`) {
		t.Error("the sections reach past the window")
	}
	if top := eval[float64](c, `document.querySelector('[data-testid=key-row]').getBoundingClientRect().top`); top > 667-60 {
		t.Errorf("the first key starts at %v px, below the fold", top)
	}
	if eval[string](c, `getComputedStyle(document.querySelector('.search-hint')).display`) != "none" {
		t.Error("a touch screen shows the / shortcut")
	}
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=select-page]`)))
	c.waitFor(`!document.querySelector('[data-testid=bulk-bar]').hidden`)
	if n := eval[int](c, `document.querySelectorAll('[data-testid=select-row]:checked').length`); n != 50 {
		t.Fatalf("selecting the page ticked %d rows", n)
	}
	if h := eval[float64](c, `document.querySelector('[data-testid=bulk-bar]').getBoundingClientRect().height`); h > 667/8 {
		t.Errorf("the bulk bar is %v px tall", h)
	}
	if n := eval[int](c, `(() => { const r = document.createRange(); r.selectNodeContents(document.getElementById('bulk-count')); return r.getClientRects().length; })()`); n != 1 {
		t.Errorf("the selected count takes %d lines", n)
	}
	c.screenshot("selected")

	// A desktop with a mouse shows the shortcut.
	c.do(chromedp.EmulateViewport(1440, 900), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-table]`)))
	if eval[string](c, `getComputedStyle(document.querySelector('.search-hint')).display`) == "none" {
		t.Error("the desktop hides the / shortcut")
	}
}

// TestStatusButtonsKeepTheirWidth presses each status button: none
// changes width, so the others do not move.
func TestStatusButtonsKeepTheirWidth(t *testing.T) {
	c := newConsole(t)
	c.createKey("pressed")
	c.login("admin", adminPassword)
	c.do(chromedp.Navigate(c.url + "/keys"))
	widths := func() []float64 {
		return eval[[]float64](c, `Array.from(document.querySelectorAll('.toggle')).map(b => b.getBoundingClientRect().width)`)
	}
	before := widths()
	for _, st := range []string{"available", "soon", "unavailable", "disabled"} {
		c.do(chromedp.Click(chromedp.CSS(`[data-testid=status-` + st + `]`)))
		c.waitFor(`document.querySelector('[data-testid=status-` + st + `]').getAttribute('aria-pressed') === 'true'`)
		if got := widths(); !slices.Equal(got, before) {
			t.Fatalf("pressing %s: widths %v, were %v", st, got, before)
		}
	}
}

// TestErrorBoxesKeepTheirDistance: the message of a refused page and the
// summary of a rejected form stand apart from what is around them.
func TestErrorBoxesKeepTheirDistance(t *testing.T) {
	c := newConsole(t)
	c.addUser("vera", store.RoleViewer)
	c.login("vera", adminPassword)
	gap := func(above, below string) float64 {
		return eval[float64](c, `document.querySelector(`+jsString(below)+`).getBoundingClientRect().top - document.querySelector(`+jsString(above)+`).getBoundingClientRect().bottom`)
	}
	c.do(chromedp.Navigate(c.url + "/users"))
	if g := gap(`[data-testid=error-message]`, `.error-page .button`); g < 12 {
		t.Errorf("Not allowed: the message is %v px from the button", g)
	}
	c.do(chromedp.Navigate(c.url+"/profile"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=current]`), "not my password"),
		chromedp.Click(chromedp.CSS(`[data-testid=change-password]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=form-summary]`)))
	if g := gap(`[data-testid=form-summary]`, `[data-testid=password-form] .field`); g < 12 {
		t.Errorf("Profile: the summary is %v px from the first field", g)
	}
	if g := gap(`#password-title`, `[data-testid=form-summary]`); g < 12 {
		t.Errorf("Profile: the summary is %v px from the heading", g)
	}
}
