package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keydesk/keydesk/store"
)

const crashAdminPassword = "crash-test-password"

// keydeskProcess is `keydesk serve` running as a child process: this test
// binary, which TestMain turns into the program.
type keydeskProcess struct {
	cmd    *exec.Cmd
	url    string
	exited chan struct{}
}

// startKeydesk runs `keydesk serve` on db and waits until it says where it
// listens. The process is killed when the test ends, whatever happens.
func startKeydesk(t *testing.T, db, logName string) *keydeskProcess {
	t.Helper()
	dir := t.TempDir()
	stdoutPath := filepath.Join(dir, logName+".out")
	stdout, err := os.Create(stdoutPath)
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, logName+".err"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()

	cmd := exec.Command(os.Args[0], "serve", "--addr", "127.0.0.1:0", "--db", db)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KEYDESK_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "KEYDESK_TEST_RUN_MAIN=1", "KEYDESK_ADMIN_PASSWORD="+crashAdminPassword)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &keydeskProcess{cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.kill)

	running := regexp.MustCompile(`Keydesk is running at (http://\S+)`)
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, _ := os.ReadFile(stdoutPath)
		if m := running.FindSubmatch(out); m != nil {
			p.url = string(m[1])
			return p
		}
		select {
		case <-p.exited:
			errOut, _ := os.ReadFile(filepath.Join(dir, logName+".err"))
			t.Fatalf("keydesk serve exited: %v\n%s%s", cmd.ProcessState, out, errOut)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("keydesk serve did not start within a minute:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL and waits for it.
func (p *keydeskProcess) kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// consoleClient is a logged-in browser without the browser: a cookie jar,
// the CSRF token from the page's meta tag, and redirects not followed.
type consoleClient struct {
	base string
	http *http.Client
	csrf string
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)

func logIn(t *testing.T, base string) *consoleClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	cl := &consoleClient{base: base, http: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	cl.fetchToken(t, "/login")
	res, body, err := cl.post("/login", url.Values{"username": {"admin"}, "password": {crashAdminPassword}})
	if err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("log in: %v %v\n%s", res, err, body)
	}
	cl.fetchToken(t, "/keys")
	return cl
}

func (cl *consoleClient) fetchToken(t *testing.T, path string) {
	t.Helper()
	res, err := cl.http.Get(cl.base + path)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfMeta.FindSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("GET %s: %s, no CSRF token\n%s", path, res.Status, body)
	}
	cl.csrf = string(m[1])
}

// post sends a form with the CSRF token. An error means no answer came:
// the server may or may not have done what was asked.
func (cl *consoleClient) post(path string, form url.Values) (*http.Response, string, error) {
	form.Set("_csrf", cl.csrf)
	res, err := cl.http.PostForm(cl.base+path, form)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, "", err
	}
	return res, string(body), nil
}

// keyState is what the test changes about a key.
type keyState struct {
	enabled, revoked bool
	expires          int64 // Unix seconds; 0 for never
}

var newKeyState = keyState{enabled: true}

// change is one request of a worker and what it does to each of its keys.
type change struct {
	what         string
	bulk         string // the bulk action, for bulk changes
	before       map[string]keyState
	after        map[string]keyState
	createdNames []string
}

// changed lists the keys that a bulk change really changes.
func (c change) changed() []string {
	var ids []string
	for id, after := range c.after {
		if c.before[id] != after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// worker is one client's sequence of requests on keys of its own, so
// that what each key should look like follows from what was acknowledged.
type worker struct {
	n     int
	cl    *consoleClient
	names map[string]string   // key id → name, for acknowledged creates
	state map[string]keyState // after every acknowledged change
	acked []change
	// unknown is the request that got no answer: it may have been applied.
	unknown *change
	err     error // an answer the console should not have given
}

// unknownLeaves reports whether the unanswered request, if it was
// applied, leaves key id in state st.
func (w *worker) unknownLeaves(id string, st keyState) bool {
	if w.unknown == nil {
		return false
	}
	after, ok := w.unknown.after[id]
	return ok && after == st
}

// run sends the worker's requests until they are done or the console
// stops answering; acks counts every acknowledged request of all workers.
func (w *worker) run(rounds int, acks *atomic.Int64, killAt int64, kill func()) {
	for r := range rounds {
		var group []string
		for j := range 3 {
			name := fmt.Sprintf("crash w%d r%d k%d", w.n, r, j)
			id, ok := w.create(name)
			if !ok {
				return
			}
			group = append(group, id)
			if acks.Add(1) == killAt {
				kill()
			}
		}
		expiry := time.Date(2090, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, w.n*100+r)
		steps := []func() bool{
			func() bool { return w.bulk("disable", group) },
			func() bool { return w.single(group[0], "enable", nil) },
			func() bool {
				return w.single(group[1], "expire", url.Values{"expires_at": {expiry.Format("2006-01-02")}})
			},
			func() bool { return w.bulk("enable", group) },
		}
		if r%2 == 1 {
			steps = append(steps, func() bool { return w.bulk("revoke", group) })
		}
		for _, step := range steps {
			if !step() {
				return
			}
			if acks.Add(1) == killAt {
				kill()
			}
		}
	}
}

var createdID = regexp.MustCompile(`/keys\?highlight=([0-9a-z]+)`)

func (w *worker) create(name string) (string, bool) {
	c := change{what: "create " + name, createdNames: []string{name}}
	res, body, err := w.cl.post("/keys", url.Values{
		"name": {name}, "permissions": {"chat"}, "enabled": {"on"}, "never_expires": {"on"},
	})
	if err != nil {
		w.unknown = &c
		return "", false
	}
	m := createdID.FindStringSubmatch(body)
	if res.StatusCode != http.StatusCreated || m == nil {
		w.err = fmt.Errorf("%s: %s\n%.2000s", c.what, res.Status, body)
		return "", false
	}
	id := m[1]
	w.names[id] = name
	w.state[id] = newKeyState
	w.acked = append(w.acked, c)
	return id, true
}

// single enables, disables or sets the expiry of one key.
func (w *worker) single(id, action string, form url.Values) bool {
	before := w.state[id]
	after := before
	switch action {
	case "enable", "disable":
		after.enabled = action == "enable"
	case "expire":
		at, _ := time.Parse("2006-01-02", form.Get("expires_at"))
		after.expires = at.Unix()
	}
	if form == nil {
		form = url.Values{}
	}
	return w.send(change{what: action + " " + id, before: map[string]keyState{id: before}, after: map[string]keyState{id: after}},
		"/keys/"+id+"/"+action, form)
}

func (w *worker) bulk(action string, ids []string) bool {
	c := change{what: "bulk " + action, bulk: action, before: map[string]keyState{}, after: map[string]keyState{}}
	for _, id := range ids {
		before := w.state[id]
		after := before
		switch action {
		case "enable", "disable":
			after.enabled = action == "enable"
		case "revoke":
			after.revoked = true
		}
		c.before[id], c.after[id] = before, after
	}
	return w.send(c, "/keys/bulk", url.Values{"action": {action}, "id": ids})
}

// send posts a change; a redirect is the console's acknowledgement.
func (w *worker) send(c change, path string, form url.Values) bool {
	res, body, err := w.cl.post(path, form)
	if err != nil {
		w.unknown = &c
		return false
	}
	if res.StatusCode != http.StatusSeeOther {
		w.err = fmt.Errorf("%s: %s\n%.2000s", c.what, res.Status, body)
		return false
	}
	for id, after := range c.after {
		w.state[id] = after
	}
	w.acked = append(w.acked, c)
	return true
}

// TestKillNineUnderWrites runs the real program, has it create, bulk change
// and update keys from several clients at once, kills it with SIGKILL in
// the middle, and starts it again on the same file: the database is
// intact, everything acknowledged is there, and every bulk action is
// applied to all its keys or to none.
func TestKillNineUnderWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the program")
	}
	start := time.Now()
	db := filepath.Join(t.TempDir(), "crash.db")
	first := startKeydesk(t, db, "first")

	const workers, rounds = 4, 6 // 8 or 9 requests a round
	const killAt = workers * rounds * 8 * 6 / 10
	var (
		acks     atomic.Int64
		killOnce sync.Once
		killed   = make(chan struct{})
		wg       sync.WaitGroup
	)
	kill := func() { killOnce.Do(func() { first.cmd.Process.Kill(); close(killed) }) }
	ws := make([]*worker, workers)
	for i := range ws {
		ws[i] = &worker{n: i, cl: logIn(t, first.url), names: map[string]string{}, state: map[string]keyState{}}
	}
	for _, w := range ws {
		wg.Go(func() { w.run(rounds, &acks, killAt, kill) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		kill()
		t.Fatal("the requests did not end within three minutes")
	}
	select {
	case <-killed:
	default:
		t.Fatalf("the workers stopped after %d acknowledged requests, before the kill at %d", acks.Load(), killAt)
	}
	<-first.exited
	for _, w := range ws {
		if w.err != nil {
			t.Fatalf("worker %d: %v", w.n, w.err)
		}
	}
	t.Logf("killed after %d acknowledged requests, %s in", acks.Load(), time.Since(start).Round(time.Millisecond))
	for _, w := range ws {
		if w.unknown != nil {
			t.Logf("worker %d: no answer to %s", w.n, w.unknown.what)
		}
	}

	// The program starts again on the file, and answers.
	second := startKeydesk(t, db, "second")
	cl := logIn(t, second.url)
	res, err := cl.http.Get(second.url + "/keys/export.csv")
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("export after the restart: %s", res.Status)
	}
	for _, w := range ws {
		for _, name := range w.names {
			if !strings.Contains(string(csv), name) {
				t.Errorf("the export after the restart lacks acknowledged key %q", name)
			}
		}
	}
	second.kill()

	checkDatabase(t, db, ws)
	t.Logf("%d workers, %d acknowledged requests, kill and restart: %s", workers, acks.Load(), time.Since(start).Round(time.Millisecond))
}

// checkDatabase reads the file the killed and restarted program wrote.
func checkDatabase(t *testing.T, path string, ws []*worker) {
	t.Helper()
	// The store's driver: integrity_check reads the search indexes' text
	// through its functions.
	conn, err := sql.Open(store.DriverName, "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()

	var integrity string
	if err := conn.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q, %v", integrity, err)
	}

	type storedKey struct {
		id    string
		state keyState
	}
	byName := map[string]storedKey{}
	byID := map[string]keyState{}
	rows, err := conn.QueryContext(ctx, `SELECT public_id, name, enabled, revoked_at IS NOT NULL, coalesce(expires_at, 0) FROM keys`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k storedKey
		var name string
		if err := rows.Scan(&k.id, &name, &k.state.enabled, &k.state.revoked, &k.state.expires); err != nil {
			t.Fatal(err)
		}
		byName[name] = k
		byID[k.id] = k.state
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()

	// Bulk actions as the audit log groups them: action and keys.
	bulkEvents := map[string]string{} // "action keys…" → bulk id
	rows, err = conn.QueryContext(ctx, `SELECT bulk_id, action, group_concat(target_id, ' ' ORDER BY target_id)
		FROM events WHERE bulk_id != '' GROUP BY bulk_id, action`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var bulkID, action, targets string
		if err := rows.Scan(&bulkID, &action, &targets); err != nil {
			t.Fatal(err)
		}
		bulkEvents[action+" "+targets] = bulkID
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	eventAction := map[string]string{"enable": "key.enabled", "disable": "key.disabled", "revoke": "key.revoked"}

	expected := 0
	for _, w := range ws {
		// Every acknowledged key is there, as the acknowledged changes left
		// it or as the unanswered request would leave it.
		for id, name := range w.names {
			got, ok := byName[name]
			if !ok || got.id != id {
				t.Errorf("worker %d: acknowledged key %q (%s) is missing: %+v", w.n, name, id, got)
				continue
			}
			delete(byName, name)
			expected++
			want := w.state[id]
			if got.state != want && !w.unknownLeaves(id, got.state) {
				t.Errorf("worker %d: key %q is %+v, acknowledged %+v", w.n, name, got.state, want)
			}
		}
		// A create that got no answer may have happened, and then whole.
		if w.unknown != nil {
			for _, name := range w.unknown.createdNames {
				if got, ok := byName[name]; ok {
					if got.state != newKeyState {
						t.Errorf("worker %d: unanswered create %q left %+v", w.n, name, got.state)
					}
					delete(byName, name)
				}
			}
		}
		// A bulk action is in the keys and the audit log for all of its
		// keys or for none; an acknowledged one for all.
		changes := w.acked
		if w.unknown != nil && w.unknown.bulk != "" {
			changes = append(slices.Clone(changes), *w.unknown)
		}
		for i, c := range changes {
			ids := c.changed()
			if c.bulk == "" || len(ids) == 0 {
				continue
			}
			acked := i < len(w.acked)
			applied := 0
			for _, id := range ids {
				if byID[id] == c.after[id] {
					applied++
				}
			}
			_, logged := bulkEvents[eventAction[c.bulk]+" "+strings.Join(ids, " ")]
			if acked && !logged {
				t.Errorf("worker %d: acknowledged bulk %s of %v is not in the audit log as one action", w.n, c.bulk, ids)
			}
			if !acked && applied != 0 && applied != len(ids) {
				t.Errorf("worker %d: unanswered bulk %s is applied to %d of %d keys", w.n, c.bulk, applied, len(ids))
			}
			if !acked && logged != (applied == len(ids)) {
				t.Errorf("worker %d: unanswered bulk %s: applied to %d of %d keys, in the audit log: %v", w.n, c.bulk, applied, len(ids), logged)
			}
			delete(bulkEvents, eventAction[c.bulk]+" "+strings.Join(ids, " "))
		}
	}
	for name, k := range byName {
		t.Errorf("key %q (%s) was never asked for", name, k.id)
	}
	for group, bulkID := range bulkEvents {
		t.Errorf("the audit log has bulk action %s over keys no bulk action named: %s", bulkID, group)
	}
	t.Logf("%d acknowledged keys checked", expected)
}
