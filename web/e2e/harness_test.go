package e2e_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
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

// clock is the console's clock: real time plus an offset that a test can
// move forward, to reach a timeout without waiting for it.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// console is one running console and a browser tab logged out of it.
type console struct {
	t      *testing.T
	url    string
	srv    *httptest.Server
	faults *faults
	store  *store.Store
	clock  *clock
	tab    context.Context
	shots  string
}

// newConsole starts the console on a loopback port over a fresh database
// with the first administrator (password adminPassword), and opens a tab in
// a new browser context.
func newConsole(t *testing.T) *console {
	t.Helper()
	c := newEmptyConsole(t)
	if _, _, err := c.store.CreateFirstAdmin(context.Background(), adminPassword); err != nil {
		t.Fatal(err)
	}
	return c
}

// newEmptyConsole is newConsole without any user.
func newEmptyConsole(t *testing.T) *console {
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
	st.SetMasterKey(func() (*store.MasterKey, error) { return store.ParseMasterKey(store.GenerateMasterKey()) })
	clk := &clock{}
	st.Now = clk.Now
	h, err := web.New(ctx, st, web.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	f := &faults{}
	srv := httptest.NewServer(f.wrap(h))
	t.Cleanup(srv.Close)

	tab, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatal(err)
	}
	c := &console{t: t, url: srv.URL, srv: srv, faults: f, store: st, clock: clk, tab: tab, shots: os.Getenv("KEYDESK_SCREENSHOTS")}
	t.Cleanup(func() {
		if t.Failed() {
			c.screenshot("failure")
		}
	})
	return c
}

// faults makes the console fail or wait as a network or a server in
// trouble might, when a test asks.
type faults struct {
	failing atomic.Bool // every answer is a bare 500
	mu      sync.Mutex
	hold    chan struct{} // while set, htmx requests wait until it is closed
}

func (f *faults) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		hold := f.hold
		f.mu.Unlock()
		if hold != nil && r.Header.Get("HX-Request") == "true" {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		if f.failing.Load() {
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// holdRequests makes htmx requests wait until the returned func is called.
func (f *faults) holdRequests() (release func()) {
	ch := make(chan struct{})
	f.mu.Lock()
	f.hold = ch
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		f.hold = nil
		f.mu.Unlock()
		close(ch)
	}
}

// stopServer stops the console as if the network were gone: connections
// are refused from now on.
func (c *console) stopServer() {
	c.srv.CloseClientConnections()
	c.srv.Close()
}

// addUser creates a user with a role, and the test password.
func (c *console) addUser(username string, role int64) {
	c.t.Helper()
	_, err := c.store.CreateUser(context.Background(), store.SystemActor("test"), store.NewUser{Username: username, Password: adminPassword, RoleID: role})
	if err != nil {
		c.t.Fatal(err)
	}
}

// createKey creates a key as admin and returns it with its secret.
func (c *console) createKey(name string, mods ...func(*store.NewKey)) (store.Key, string) {
	c.t.Helper()
	in := store.NewKey{Name: name, Permissions: []string{"chat"}, Enabled: true, Capacity: 120, Frequency: 60}
	for _, m := range mods {
		m(&in)
	}
	k, secret, err := c.store.CreateKey(context.Background(), store.Actor{Username: "admin"}, in)
	if err != nil {
		c.t.Fatal(err)
	}
	return k, secret
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
// are asked for (KEYDESK_SCREENSHOTS=DIR) or the test failed: the whole
// page, what a phone shows before scrolling, and with screenshots asked for,
// the same in the dark theme.
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
	schemes := []string{"light"}
	if c.shots != "" {
		schemes = append(schemes, "dark")
	}
	for _, scheme := range schemes {
		ctx, cancel := context.WithTimeout(c.tab, 30*time.Second)
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		cancel()
		if err != nil {
			c.t.Logf("screenshot %s: %v", name, err)
			continue
		}
		suffix := ""
		if scheme == "dark" {
			suffix = "-dark"
		}
		c.saveShot(dir, name+suffix, 1440, 900, true)
		c.saveShot(dir, name+suffix, 375, 740, true)
		c.saveShot(dir, name+suffix+"-fold", 375, 740, false)
	}
	ctx, cancel := context.WithTimeout(c.tab, 15*time.Second)
	defer cancel()
	_, _ = chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
	_ = chromedp.Do(ctx, chromedp.EmulateViewport(1440, 900))
}

// saveShot saves one screenshot at a window size, of the whole page or of
// the window only.
func (c *console) saveShot(dir, name string, width, height int64, full bool) {
	ctx, cancel := context.WithTimeout(c.tab, 15*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height))
	var png []byte
	if err == nil && full {
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	} else if err == nil {
		png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
	}
	if err != nil {
		c.t.Logf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(dir, fmt.Sprintf("%s-%s-%d.png", strings.ReplaceAll(c.t.Name(), "/", "-"), name, width))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		c.t.Logf("screenshot %s: %v", name, err)
	} else if c.t.Failed() {
		c.t.Logf("screenshot of the failure: %s", file)
	}
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
	if got := c.text(`#confirm-title`) + " " + c.text(`#confirm-message`); !strings.Contains(got, wantText) {
		c.t.Fatalf("confirmation says %q, want it to mention %q", got, wantText)
	}
	c.do(chromedp.Click(chromedp.CSS(`[data-testid=confirm-ok]`)))
}

//go:embed testdata/axe.min.js
var axeSource string

// axeViolation is what axe-core reports of one rule a page breaks.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// checkAccessibility runs axe-core on the page and fails the test on any
// serious or critical violation.
func (c *console) checkAccessibility(page string) {
	c.t.Helper()
	violations, err := c.seriousViolations()
	if err != nil {
		c.t.Fatal(err)
	}
	for _, v := range violations {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target)+" "+n.HTML)
		}
		c.t.Errorf("%s: %s (%s): %s\n\t%s", page, v.ID, v.Impact, v.Help, strings.Join(where, "\n\t"))
	}
}

// seriousViolations runs axe-core on the page for WCAG 2.1 A and AA and
// best practice, and returns the serious and critical violations.
func (c *console) seriousViolations() ([]axeViolation, error) {
	ctx, cancel := context.WithTimeout(c.tab, 30*time.Second)
	defer cancel()
	// Evaluated through the DevTools protocol, which the page's CSP does
	// not govern: the console itself never serves axe.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axeSource)); err != nil {
		return nil, fmt.Errorf("load axe: %w", err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`axe.run(document, {
		runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
		resultTypes: ['violations']
	}).then(r => r.violations)`, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("run axe: %w", err)
	}
	var all, serious []axeViolation
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, fmt.Errorf("read axe's answer: %w", err)
	}
	for _, v := range all {
		if v.Impact == "serious" || v.Impact == "critical" {
			serious = append(serious, v)
		}
	}
	return serious, nil
}

// grantClipboard lets the page write to the clipboard, and the test read
// it back.
func (c *console) grantClipboard() {
	c.t.Helper()
	grant := browser.SetPermissionParams{
		Permission:       &browser.PermissionDescriptor{},
		Setting:          browser.PermissionSettingGranted,
		BrowserContextID: chromedp.FromContext(c.tab).BrowserContextID,
	}
	for _, name := range []string{"clipboard-write", "clipboard-read"} {
		grant.Permission.Name = name
		if _, err := chromedp.CallBrowser(c.tab, browser.SetPermission, grant); err != nil {
			c.t.Fatal(err)
		}
	}
}

// openRowMenu opens the menu of a table row and waits until the script
// has placed it, so that a click on one of its items lands where it is.
func (c *console) openRowMenu(row string) {
	c.t.Helper()
	c.do(chromedp.Click(chromedp.CSS(row + ` [data-testid=row-menu] summary`)))
	c.waitFor(`document.querySelector(` + jsString(row+` details.menu[open] .menu-items`) + `)?.style.left !== ''`)
}
