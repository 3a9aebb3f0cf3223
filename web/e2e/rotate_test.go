package e2e_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/keydesk/keydesk/store"
)

// TestRotateAndEndGrace rotates a key from its page, after a confirmation,
// sees the new secret once, finds both secrets listed, and ends the old
// one's grace; the services' answers follow each step.
func TestRotateAndEndGrace(t *testing.T) {
	c := newConsole(t)
	c.login("admin", adminPassword)
	k, old := c.createKey("rotating")
	c.do(
		chromedp.Navigate(c.url+"/keys/"+k.ID),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=rotate-form]`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid=grace-days]`), "3"),
		chromedp.Click(chromedp.CSS(`[data-testid=rotate]`)),
	)
	c.confirm("Rotate “rotating”?")
	c.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=secret]`)))
	secret := eval[string](c, `document.querySelector('[data-testid=secret]').value`)
	if !store.WellFormedSecret(secret) || secret == old {
		t.Fatalf("the new secret shown is %q", secret)
	}
	if lead := c.text(`[data-testid=rotated-lead]`); !strings.Contains(lead, "works until") {
		t.Fatalf("the answer says %q", lead)
	}
	c.screenshot("rotated")
	// The answer took the page's place, at the key's address: reloading
	// shows the key's page, without the secret, and rotates nothing.
	if c.path() != "/keys/"+k.ID {
		t.Fatalf("the secret is shown at %s", c.path())
	}
	c.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid=secrets]`)))
	if strings.Contains(eval[string](c, `document.documentElement.outerHTML`), secret) {
		t.Fatal("reloading shows the secret again")
	}
	if secrets, err := c.store.KeySecrets(context.Background(), store.Scope{}, k.ID); err != nil || len(secrets) != 2 {
		t.Fatalf("after reloading the key has %d secrets (%v)", len(secrets), err)
	}
	ctx := context.Background()
	if v, err := c.store.VerifyKey(ctx, old, "", ""); err != nil || !v.Valid || v.GraceUntil.IsZero() {
		t.Fatalf("the old secret in its grace: %+v, %v", v, err)
	}

	if n := eval[int](c, `document.querySelectorAll('[data-testid=secret-row]').length`); n != 2 {
		t.Fatalf("%d secrets listed", n)
	}
	if html := eval[string](c, `document.documentElement.outerHTML`); strings.Contains(html, secret) || strings.Contains(html, old) {
		t.Fatal("the key's page shows a whole secret")
	}
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=end-grace]`)))
	c.confirm("will be refused")
	c.waitFor(`document.querySelector('[data-testid=flash]')?.textContent.includes('no longer work')`)
	if state := c.text(`[data-testid=secret-row]:nth-child(2) [data-testid=secret-state]`); !strings.HasPrefix(state, "Ended") {
		t.Fatalf("the old secret is %q", state)
	}
	c.screenshot("secrets")
	if v, err := c.store.VerifyKey(ctx, old, "", ""); err != nil || v.Code != store.CodeExpired {
		t.Fatalf("the old secret after its grace was ended: %+v, %v", v, err)
	}
	if v, err := c.store.VerifyKey(ctx, secret, "", ""); err != nil || !v.Valid {
		t.Fatalf("the new secret: %+v, %v", v, err)
	}
}

// TestRevealCopyAndBulkRotate: an administrator reveals a recoverable
// key's secret with their password (a wrong one is said beside the field),
// copies it to the clipboard from the list's row menu, and rotates two
// keys at once from the bulk bar, seeing both new secrets once.
func TestRevealCopyAndBulkRotate(t *testing.T) {
	c := newConsole(t)
	ctx := context.Background()
	vault, err := c.store.CreateOrg(ctx, store.SystemActor("test"), "Vault", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.store.SetOrgPolicy(ctx, store.SystemActor("test"), vault.ID, store.Policy{APIKeysEnabled: true, RecoverableKeys: true}); err != nil {
		t.Fatal(err)
	}
	k, secret := c.createKey("kept", func(in *store.NewKey) { in.Org = vault.ID })
	other, _ := c.createKey("other")
	c.login("admin", adminPassword)
	c.grantClipboard()

	c.do(
		chromedp.Navigate(c.url+"/keys/"+k.ID),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=reveal-form]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=reveal-password]`), "not my password"),
		chromedp.Click(chromedp.CSS(`[data-testid=reveal]`)),
	)
	c.waitFor(`document.querySelector('#password-error')?.textContent.includes('not your current password')`)
	c.do(
		chromedp.SendKeys(chromedp.CSS(`[data-testid=reveal-password]`), adminPassword),
		chromedp.Click(chromedp.CSS(`[data-testid=reveal]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=secret]`)),
	)
	if got := eval[string](c, `document.querySelector('[data-testid=secret]').value`); got != secret {
		t.Fatalf("revealed %q, want the key's secret", got)
	}
	c.screenshot("revealed")
	c.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid=secrets]`)))
	if strings.Contains(eval[string](c, `document.documentElement.outerHTML`), secret) {
		t.Fatal("reloading shows the secret again")
	}

	// Copy from the list.
	c.do(chromedp.Navigate(c.url+"/keys"), chromedp.WaitVisible(chromedp.CSS(`#key-`+k.ID)))
	c.openRowMenu(`#key-` + k.ID)
	c.do(
		chromedp.SendKeys(chromedp.CSS(`#key-`+k.ID+` [data-testid=row-copy-secret] input[name=password]`), adminPassword),
		chromedp.Click(chromedp.CSS(`#key-`+k.ID+` [data-testid=row-copy-secret] button`)),
	)
	c.waitFor(`document.querySelector('#flash')?.textContent.includes('is on your clipboard')`)
	clip, err := chromedp.Run(c.tab, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil || clip != secret {
		t.Fatalf("clipboard holds %q (%v), want the secret", clip, err)
	}
	if strings.Contains(eval[string](c, `document.documentElement.outerHTML`), secret) {
		t.Fatal("copying put the secret into the page")
	}

	// Rotate both keys from the bulk bar.
	c.do(
		chromedp.Click(chromedp.CSS(`#key-`+k.ID+` [data-testid=select-row]`)),
		chromedp.Click(chromedp.CSS(`#key-`+other.ID+` [data-testid=select-row]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=bulk-rotate]`)),
	)
	c.confirm("Rotate 2 keys?")
	c.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=rotated-table]`)))
	if n := eval[int](c, `document.querySelectorAll('[data-testid=rotated-secret]').length`); n != 2 {
		t.Fatalf("%d new secrets shown, want 2", n)
	}
	c.screenshot("bulk-rotated")
	for _, s := range eval[[]string](c, `[...document.querySelectorAll('[data-testid=rotated-secret]')].map(e => e.textContent)`) {
		if v, err := c.store.VerifyKey(ctx, s, "", ""); err != nil || !v.Valid {
			t.Fatalf("a new secret does not verify: %+v, %v", v, err)
		}
	}
	if v, err := c.store.VerifyKey(ctx, secret, "", ""); err != nil || !v.Valid || v.GraceUntil.IsZero() {
		t.Fatalf("the old secret in its grace: %+v, %v", v, err)
	}
}
