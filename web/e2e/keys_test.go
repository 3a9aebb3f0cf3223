package e2e_test

import (
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/keydesk/keydesk/store"
)

func TestCreateKeyShowsTheSecretOnce(t *testing.T) {
	c := newConsole(t)
	c.login("admin", adminPassword)
	c.grantClipboard()
	c.do(
		chromedp.Navigate(c.url+"/keys"),
		chromedp.Click(chromedp.CSS(`[data-testid=new-key]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-form]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=name]`), "billing-prod"),
		chromedp.Click(chromedp.CSS(`[data-testid=perm-chat]`)),
	)
	c.screenshot("new-key")
	c.do(
		chromedp.Click(chromedp.CSS(`[data-testid=create-key]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=secret]`)),
	)
	secret := eval[string](c, `document.querySelector('[data-testid=secret]').value`)
	if !store.WellFormedSecret(secret) {
		t.Fatalf("secret %q", secret)
	}
	if !strings.Contains(c.text(`[data-testid=secret-panel]`), "cannot show it again") {
		t.Fatal("no warning that the secret is shown once")
	}
	c.screenshot("secret")
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=copy-secret]`)))
	c.waitFor(`document.querySelector('[data-testid=copy-secret]').textContent.includes('Copied')`)
	clip, err := chromedp.Run(c.tab, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil || clip != secret {
		t.Fatalf("clipboard holds %q (%v), want the secret", clip, err)
	}
	// The answer took the form's place, at the form's address: reloading
	// shows an empty form, and makes no key and no secret.
	if c.path() != "/keys/new" {
		t.Fatalf("the secret is shown at %s", c.path())
	}
	c.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-form]`)))
	if strings.Contains(eval[string](c, `document.documentElement.outerHTML`), secret) {
		t.Fatal("reloading shows the secret again")
	}
	if got := eval[string](c, `document.querySelector('[data-testid=name]').value`); got != "" {
		t.Fatalf("after reloading the form holds %q", got)
	}
	page, _ := c.store.Keys(context.Background(), store.Scope{}, store.KeyQuery{Sort: store.SortName})
	if page.Total != 1 {
		t.Fatalf("%d keys after reloading", page.Total)
	}
	for _, path := range []string{"/keys", "/keys/" + page.Keys[0].ID} {
		c.do(chromedp.Navigate(c.url + path))
		if strings.Contains(eval[string](c, `document.documentElement.outerHTML`), secret) {
			t.Fatalf("%s shows the secret", path)
		}
	}
}

func TestSearchAsYouType(t *testing.T) {
	c := newConsole(t)
	c.seed(200)
	c.login("admin", adminPassword)
	c.do(chromedp.Navigate(c.url + "/keys"))
	all := c.text(`[data-testid=key-count]`)
	// A marker that a full page load would wipe out.
	eval[bool](c, `window.__stay = true`)
	c.do(chromedp.SendKeys(chromedp.CSS(`[data-testid=key-search]`), "billing"))
	c.waitFor(`location.search.includes('q=billing')`)
	c.waitFor(`document.querySelector('[data-testid=key-count]').textContent.includes('match')`)
	if !eval[bool](c, `window.__stay === true`) {
		t.Fatal("searching reloaded the page")
	}
	for _, n := range c.rows() {
		if !strings.Contains(n, "billing") {
			t.Fatalf("row %q does not match billing", n)
		}
	}
	if c.text(`[data-testid=key-count]`) == all {
		t.Fatal("the count did not change")
	}
	// The URL can be reloaded and shows the same.
	narrowed := c.rows()
	c.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-table]`)))
	if !slices.Equal(c.rows(), narrowed) || eval[string](c, `document.getElementById('key-search').value`) != "billing" {
		t.Fatal("reloading the URL does not give the same view")
	}

	// Status buttons combine with each other and with the search.
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=status-soon]`)))
	c.waitFor(`document.querySelector('[data-testid=status-soon]').getAttribute('aria-pressed') === 'true'`)
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=status-disabled]`)))
	c.waitFor(`location.search.includes('status=disabled') && location.search.includes('status=soon')`)
	c.waitFor(`document.querySelector('[data-testid=status-disabled]').getAttribute('aria-pressed') === 'true'`)
	shown := c.rows()
	page, err := c.store.Keys(context.Background(), store.Scope{}, store.KeyQuery{
		KeyFilter: store.KeyFilter{Search: "billing", Statuses: []store.StatusFilter{store.FilterSoon, store.FilterDisabled}},
		Sort:      store.SortName, Limit: 50,
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, k := range page.Keys {
		want = append(want, k.Name)
	}
	if !slices.Equal(shown, want) {
		t.Fatalf("shown %v\nwant  %v", shown, want)
	}
	c.screenshot("filtered")

	// The CSV download holds exactly these rows.
	href := eval[string](c, `document.querySelector('[data-testid=export-csv]').href`)
	body := eval[string](c, `fetch(`+jsString(href)+`).then(r => r.text())`)
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var csvNames []string
	for _, r := range rows[1:] {
		csvNames = append(csvNames, r[1])
	}
	if !slices.Equal(csvNames, want) {
		t.Fatalf("CSV rows %v\nwant %v", csvNames, want)
	}

	// "/" jumps to the search box.
	c.do(chromedp.Click(chromedp.CSS(`h1`)), chromedp.KeyEvent("/"))
	if !eval[bool](c, `document.activeElement.id === 'key-search'`) {
		t.Fatal("/ does not focus the search box")
	}
}

func TestCopyTwiceNumbersTheCopies(t *testing.T) {
	c := newConsole(t)
	c.login("admin", adminPassword)
	k, _ := c.createKey("APIKEYtest", func(n *store.NewKey) { n.Permissions = []string{"securemail"} })
	for _, want := range []string{"APIKEYtest_1", "APIKEYtest_2"} {
		c.do(chromedp.Navigate(c.url + "/keys/" + k.ID))
		if got := c.text(`[data-testid=copy-key]`); got != "Duplicate" {
			t.Fatalf("the details page offers %q", got)
		}
		c.do(
			chromedp.Click(chromedp.CSS(`[data-testid=copy-key]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-form]`)),
		)
		if got := eval[string](c, `document.querySelector('[data-testid=name]').value`); got != want {
			t.Fatalf("copy named %q, want %q", got, want)
		}
		if got := c.text(`[data-testid=breadcrumb-current]`); got != "Duplicate API key" {
			t.Fatalf("the breadcrumb says %q", got)
		}
		if !eval[bool](c, `document.querySelector('[data-testid=perm-securemail]').checked`) {
			t.Fatal("the copy does not keep the permission")
		}
		c.do(chromedp.Click(chromedp.CSS(`[data-testid=create-key]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=secret]`)))
	}
	// Done goes back to the list with the new key marked.
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=done]`)), chromedp.WaitVisible(chromedp.CSS(`tr.highlight`)))
	if got := c.text(`tr.highlight [data-testid=key-name]`); got != "APIKEYtest_2" {
		t.Fatalf("highlighted %q", got)
	}
	c.do(chromedp.Navigate(c.url + "/keys"))
	if got := c.rows(); !slices.Equal(got, []string{"APIKEYtest", "APIKEYtest_1", "APIKEYtest_2"}) {
		t.Fatalf("rows %v", got)
	}
}

func TestExpireAndRevoke(t *testing.T) {
	c := newConsole(t)
	c.login("admin", adminPassword)
	c.createKey("to-expire")
	c.createKey("to-revoke")
	c.do(chromedp.Navigate(c.url + "/keys"))
	// Expire now, from the row menu.
	c.openRowMenu(`#key-results tbody tr:nth-child(1)`)
	c.do(chromedp.Click(chromedp.CSS(`#key-results tbody tr:nth-child(1) [data-testid=row-expire]`)))
	c.confirm("Expire “to-expire” now?")
	c.waitFor(`document.querySelector('[data-testid=flash]')?.textContent.includes('expired')`)
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=status-unavailable]`)))
	c.waitFor(`location.search.includes('status=unavailable')`)
	if got := c.rows(); !slices.Equal(got, []string{"to-expire"}) {
		t.Fatalf("unavailable keys %v", got)
	}

	// Revoke from the details page; cancelling first changes nothing.
	c.do(chromedp.Navigate(c.url + "/keys?q=to-revoke"))
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=key-name]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=revoke]`)))
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=revoke]`)))
	c.waitFor(`document.getElementById('confirm-dialog').open`)
	if !strings.Contains(c.text(`#confirm-message`), "cannot be undone") {
		t.Fatalf("the revoke confirmation does not say it is final: %q", c.text(`#confirm-message`))
	}
	c.do(chromedp.KeyEvent("\x1b")) // Escape cancels
	c.waitFor(`!document.getElementById('confirm-dialog').open`)
	if c.text(`[data-testid=key-title] ~ .lead, .lead [data-testid=status]`) == "Revoked" {
		t.Fatal("cancelling revoked the key")
	}
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=revoke]`)))
	c.confirm("cannot be undone")
	c.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=revoked-banner]`)))
	if !strings.Contains(c.text(`[data-testid=revoked-banner]`), "by admin") {
		t.Fatalf("banner %q", c.text(`[data-testid=revoked-banner]`))
	}
	c.screenshot("details")
}

func TestSelectAllMatchingAndBulkDelete(t *testing.T) {
	c := newConsole(t)
	c.seed(180)
	c.login("admin", adminPassword)
	c.do(chromedp.Navigate(c.url + "/keys?status=available"))
	match := store.KeyFilter{Statuses: []store.StatusFilter{store.FilterAvailable}}
	total, err := c.store.Keys(context.Background(), store.Scope{}, store.KeyQuery{KeyFilter: match, Sort: store.SortName})
	if err != nil || total.Total <= 50 {
		t.Fatalf("need more than a page of matches, have %d (%v)", total.Total, err)
	}
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=select-row]`)))
	c.waitFor(`!document.querySelector('[data-testid=bulk-bar]').hidden`)
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=bulk-select-all]`)))
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=bulk-delete]`)))
	c.confirm("Delete " + thousands(total.Total) + " keys?")
	c.waitFor(`document.querySelector('[data-testid=flash]')?.textContent.includes('Deleted')`)
	after, _ := c.store.Keys(context.Background(), store.Scope{}, store.KeyQuery{Sort: store.SortName})
	if after.Total != 180-total.Total {
		t.Fatalf("%d keys left, want %d", after.Total, 180-total.Total)
	}
	if left, _ := c.store.Keys(context.Background(), store.Scope{}, store.KeyQuery{KeyFilter: match, Sort: store.SortName}); left.Total != 0 {
		t.Fatalf("%d matching keys survived", left.Total)
	}
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}

func thousands(n int) string {
	s := []byte{}
	digits := []byte(strings.TrimSpace(strings.Repeat(" ", 0) + itoa(n)))
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			s = append(s, ',')
		}
		s = append(s, d)
	}
	return string(s)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
