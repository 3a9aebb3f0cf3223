package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/keydesk/keydesk/store"
)

// ceilMinute is t rounded up to the whole minute, as quick picks are.
func ceilMinute(t time.Time) time.Time {
	if m := t.Truncate(time.Minute); !m.Equal(t) {
		return m.Add(time.Minute)
	}
	return t
}

// expiryBetween fails unless at is a quick pick of days made between
// before and after.
func expiryBetween(t *testing.T, at time.Time, days int, before, after time.Time) {
	t.Helper()
	lo, hi := ceilMinute(before.UTC().AddDate(0, 0, days)), ceilMinute(after.UTC().AddDate(0, 0, days))
	if at.Before(lo) || at.After(hi) {
		t.Fatalf("a %d-day pick gave %v, want between %v and %v", days, at, lo, hi)
	}
}

// TestQuickPicksLandOnExactDays picks 30 days on the New key form, which
// fills in the date and time in place, and 90 days on the details page,
// which saves at once; both land exactly that many days from now.
func TestQuickPicksLandOnExactDays(t *testing.T) {
	c := newConsole(t)
	c.login("admin", adminPassword)
	c.do(
		chromedp.Navigate(c.url+"/keys/new"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=name]`), "picked"),
		chromedp.Click(chromedp.CSS(`[data-testid=perm-chat]`)),
	)
	eval[bool](c, `window.__stay = true`)
	before := time.Now()
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=expires-in-30]`)))
	after := time.Now()
	state := eval[[]any](c, `[window.__stay === true,
		document.querySelector('[data-testid=never-expires]').checked,
		document.querySelector('[data-expiry-date]').hidden,
		document.querySelector('[data-testid=expires-at]').validity.valid,
		document.querySelector('[data-testid=expires-time]').validity.valid]`)
	if state[0] != true || state[1] != false || state[2] != false || state[3] != true || state[4] != true {
		t.Fatalf("after the pick (stayed, never, hidden, date valid, time valid) = %v", state)
	}
	typed := eval[string](c, `document.querySelector('[data-testid=expires-at]').value + 'T' + document.querySelector('[data-testid=expires-time]').value`)
	picked, err := time.Parse("2006-01-02T15:04", typed)
	if err != nil {
		t.Fatalf("the pick filled in %q", typed)
	}
	expiryBetween(t, picked, 30, before, after)
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=create-key]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=secret]`)))
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=view-details]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=facts]`)))
	id := c.text(`[data-testid=key-id]`)
	k, err := c.store.Key(context.Background(), store.Scope{}, id)
	if err != nil || !k.ExpiresAt.Equal(picked) {
		t.Fatalf("the key expires %v (%v), want %v", k.ExpiresAt, err, picked)
	}
	if facts := c.text(`[data-testid=facts]`); !strings.Contains(facts, "in 30 days") {
		t.Fatalf("the details say %q", facts)
	}

	// On the details page a pick saves at once.
	before = time.Now()
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=expires-in-90]`)))
	c.waitFor(`document.querySelector('[data-testid=flash]')?.textContent.includes('now expires')`)
	after = time.Now()
	k, _ = c.store.Key(context.Background(), store.Scope{}, id)
	expiryBetween(t, k.ExpiresAt, 90, before, after)
	c.screenshot("details-expiry")
	if got := eval[string](c, `document.querySelector('[data-testid=expires-at]').value + 'T' + document.querySelector('[data-testid=expires-time]').value`); got != k.ExpiresAt.UTC().Format("2006-01-02T15:04") {
		t.Fatalf("the form shows %q after the pick, want %v", got, k.ExpiresAt)
	}
}

// TestExpireNowLeavesAValidExpiry expires a key from its page: the expiry
// fields then show when, in values the browser accepts.
func TestExpireNowLeavesAValidExpiry(t *testing.T) {
	c := newConsole(t)
	k, _ := c.createKey("stopping")
	c.login("admin", adminPassword)
	c.do(chromedp.Navigate(c.url+"/keys/"+k.ID), chromedp.Click(chromedp.CSS(`[data-testid=expire-now]`)))
	c.confirm("Expire")
	c.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=expired-banner]`)))
	got, _ := c.store.Key(context.Background(), store.Scope{}, k.ID)
	fields := eval[[]any](c, `[document.querySelector('[data-testid=expires-at]').value,
		document.querySelector('[data-testid=expires-at]').validity.valid,
		document.querySelector('[data-testid=expires-time]').value,
		document.querySelector('[data-testid=expires-time]').validity.valid]`)
	want := []any{got.ExpiresAt.UTC().Format("2006-01-02"), true, got.ExpiresAt.UTC().Format("15:04"), true}
	for i := range want {
		if fields[i] != want[i] {
			t.Fatalf("after Expire now the fields are %v, want %v", fields, want)
		}
	}
}

// TestBackAfterTheSecretGoesToTheList creates a key, leaves the secret with
// Done and goes Back: the list, not a form to post again, and the secret is
// in no page and no history entry.
func TestBackAfterTheSecretGoesToTheList(t *testing.T) {
	c := newConsole(t)
	c.login("admin", adminPassword)
	c.do(
		chromedp.Navigate(c.url+"/keys"),
		chromedp.Click(chromedp.CSS(`[data-testid=new-key]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-form]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=name]`), "backed"),
		chromedp.Click(chromedp.CSS(`[data-testid=perm-chat]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=create-key]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=secret]`)),
	)
	secret := eval[string](c, `document.querySelector('[data-testid=secret]').value`)
	if strings.Contains(c.path(), secret) {
		t.Fatal("the secret is in the address")
	}
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=done]`)), chromedp.WaitVisible(chromedp.CSS(`tr.highlight`)))
	// Back, as the browser's button does it. Not chromedp.NavigateBack: it
	// waits for a load event, and a page restored from the back-forward
	// cache fires none.
	eval[bool](c, `history.back(), true`)
	// The page is swapped under the test: ask afresh until the address
	// is the list's, each question on its own (a poll inside the page dies
	// with the page it ran in).
	for deadline := time.Now().Add(15 * time.Second); ; {
		ctx, cancel := context.WithTimeout(c.tab, 2*time.Second)
		where, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
		cancel()
		if err == nil && where == "/keys" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after Back the address is %q (%v), want /keys", where, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Polling stops working in a restored page; a promise does not.
	eval[bool](c, `new Promise((ok) => document.readyState === 'complete' ? ok(true) : addEventListener('load', () => ok(true)))`)
	if !eval[bool](c, `document.querySelector('[data-testid=new-key]') !== null`) {
		t.Fatalf("Back went to %q, not the list", eval[string](c, `document.title`))
	}
	if got := c.path(); got != "/keys" {
		t.Fatalf("Back went to %s, want the list", got)
	}
	if strings.Contains(eval[string](c, `document.documentElement.outerHTML`), secret) {
		t.Fatal("the page after Back shows the secret")
	}
	history, err := chromedp.Run(c.tab, chromedp.NavigationEntries())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range history.Entries {
		if strings.Contains(e.URL, secret) || strings.Contains(e.Title, "API key created") {
			t.Fatalf("the history keeps the secret's page: %s %q", e.URL, e.Title)
		}
	}
}

// TestOrganizationMenuFollowsTheMaximumExpiry picks organizations in the
// New API key form: one whose keys must expire within 30 days hides
// "Will never expire" and shows the date; the root shows it again.
func TestOrganizationMenuFollowsTheMaximumExpiry(t *testing.T) {
	c := newConsole(t)
	acme, err := c.store.CreateOrg(t.Context(), store.SystemActor("test"), "Acme", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.store.SetOrgPolicy(t.Context(), store.SystemActor("test"), acme.ID, store.Policy{APIKeysEnabled: true, MaxExpiryDays: 30}); err != nil {
		t.Fatal(err)
	}
	c.login("admin", adminPassword)
	c.do(chromedp.Navigate(c.url+"/keys/new"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-org]`)))
	pick := func(value string) string {
		return eval[string](c, `(() => {
			const menu = document.querySelector('[data-testid=key-org]');
			menu.value = `+"`"+value+"`"+`;
			menu.dispatchEvent(new Event('change', {bubbles: true}));
			const never = document.querySelector('[data-never-expires]');
			const date = document.querySelector('[data-expiry-date]');
			return (never.hidden ? 'no-never' : 'never') + ' ' + (date.hidden ? 'no-date' : 'date');
		})()`)
	}
	if got := pick(acme.ID); got != "no-never date" {
		t.Fatalf("Acme: %s", got)
	}
	root := eval[string](c, `document.querySelector('[data-testid=key-org] option').value`)
	if got := pick(root); !strings.HasPrefix(got, "never") {
		t.Fatalf("the root: %s", got)
	}
}
