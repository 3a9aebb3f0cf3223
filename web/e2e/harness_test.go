package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/web"
)

const adminPassword = "correct-horse-battery-staple"

// browser is one Chromium for the whole run; each test gets its own
// browser context (its own cookies) in a new tab.
var (
	browserCtx    context.Context
	browserCancel context.CancelFunc
	browserErr    error
	browserOnce   sync.Once
)

func TestMain(m *testing.M) {
	code := m.Run()
	if browserCancel != nil {
		browserCancel()
	}
	os.Exit(code)
}

// chromiumPath finds Debian's Chromium, or says how to get it.
func chromiumPath() (string, error) {
	if p := os.Getenv("KEYDESK_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found: install it with 'apt-get install chromium' (or set KEYDESK_CHROMIUM) to run the browser tests")
}

func startBrowser() {
	path, err := chromiumPath()
	if err != nil {
		browserErr = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(1440, 900),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to start its sandbox as root.
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		browserErr = fmt.Errorf("start Chromium at %s: %w", path, err)
		return
	}
	browserCtx = ctx
	browserCancel = func() { cancel(); cancelAlloc() }
}

// console is one running console and a browser tab logged out of it.
type console struct {
	t     *testing.T
	url   string
	store *store.Store
	tab   context.Context
	shots string
}

// newConsole starts the console on a loopback port over a fresh database,
// and opens a tab in a new browser context.
func newConsole(t *testing.T) *console {
	t.Helper()
	browserOnce.Do(startBrowser)
	if browserErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser tests must run in CI: %v", browserErr)
		}
		t.Skip(browserErr.Error())
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "keydesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.CreateUser(ctx, store.SystemActor("test"), store.NewUser{
		Username: "admin", Password: adminPassword, RoleID: store.RoleAdministrator,
	}); err != nil {
		t.Fatal(err)
	}
	h, err := web.New(ctx, st, web.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	tab, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatal(err)
	}
	c := &console{t: t, url: srv.URL, store: st, tab: tab, shots: os.Getenv("KEYDESK_SCREENSHOTS")}
	t.Cleanup(func() {
		if t.Failed() {
			c.screenshot("failure")
		}
	})
	return c
}

// do runs browser steps, failing the test on error with a time limit.
func (c *console) do(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.tab, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		c.t.Fatalf("browser: %v", err)
	}
}

// eval returns the value of a script in the page, awaiting a promise.
func eval[T any](c *console, script string) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.tab, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	if err != nil {
		c.t.Fatalf("evaluate %q: %v", script, err)
	}
	return v
}

// text returns the text of the first element matching a CSS selector.
func (c *console) text(sel string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.tab, 15*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		c.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// login logs in as admin through the login page.
func (c *console) login(username, password string) {
	c.t.Helper()
	c.do(
		chromedp.Navigate(c.url+"/login"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=username]`), username),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=password]`), password),
		chromedp.Click(chromedp.CSS(`[data-testid=login-submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=whoami]`)),
	)
}

// screenshot saves the page at 1440 and 375 pixels wide when screenshots
// are asked for (KEYDESK_SCREENSHOTS=DIR) or the test failed.
func (c *console) screenshot(name string) {
	dir := c.shots
	if dir == "" && c.t.Failed() {
		dir = filepath.Join(os.TempDir(), "keydesk-screenshots")
	}
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Logf("screenshots: %v", err)
		return
	}
	for _, width := range []int64{1440, 375} {
		ctx, cancel := context.WithTimeout(c.tab, 15*time.Second)
		err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900))
		var png []byte
		if err == nil {
			png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		}
		cancel()
		if err != nil {
			c.t.Logf("screenshot %s: %v", name, err)
			continue
		}
		file := filepath.Join(dir, fmt.Sprintf("%s-%s-%d.png", c.t.Name(), name, width))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			c.t.Logf("screenshot %s: %v", name, err)
		}
	}
	ctx, cancel := context.WithTimeout(c.tab, 15*time.Second)
	defer cancel()
	_ = chromedp.Do(ctx, chromedp.EmulateViewport(1440, 900))
}

// seed adds n demo keys.
func (c *console) seed(n int) {
	c.t.Helper()
	if err := c.store.SeedKeys(context.Background(), n, rand.New(rand.NewPCG(1, 2))); err != nil {
		c.t.Fatal(err)
	}
}

// waitFor waits until a script in the page is true. It keeps waiting
// across page loads, which end a single poll.
func (c *console) waitFor(script string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.tab, 15*time.Second)
	defer cancel()
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](script, chromedp.WithPollingInterval(50*time.Millisecond)))
		if err == nil {
			return
		}
		if ctx.Err() != nil || !navigated(err) {
			c.t.Fatalf("waiting for %s: %v", script, err)
		}
	}
}

// navigated reports whether err means that the page changed under a script.
func navigated(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "navigated") || strings.Contains(msg, "context was destroyed") ||
		strings.Contains(msg, "Cannot find context")
}

// rows returns the key names the table shows, in order.
func (c *console) rows() []string {
	c.t.Helper()
	return eval[[]string](c, `Array.from(document.querySelectorAll('[data-testid=key-name]')).map(e => e.textContent.trim())`)
}

// path is the page's path and query.
func (c *console) path() string {
	c.t.Helper()
	return eval[string](c, `location.pathname + location.search`)
}

// confirm accepts the open confirmation dialog after checking its text.
func (c *console) confirm(wantText string) {
	c.t.Helper()
	c.waitFor(`document.getElementById('confirm-dialog').open`)
	if got := c.text(`#confirm-message`); !strings.Contains(got, wantText) {
		c.t.Fatalf("confirmation says %q, want it to mention %q", got, wantText)
	}
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=confirm-ok]`)))
}
