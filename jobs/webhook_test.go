package jobs

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/keydesk/keydesk/internal/metricstest"
	"github.com/keydesk/keydesk/metrics"
	"github.com/keydesk/keydesk/notify"
	"github.com/keydesk/keydesk/store"
)

// receiver is a webhook endpoint that checks every signature with the
// Standard Webhooks reference library, and fails its first few calls.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	fail   int // calls still to fail
	calls  int
	got    []received // the deliveries answered 2xx
}

type received struct {
	id, timestamp string
	body          map[string]any
}

func newReceiver(t *testing.T, fail int) *receiver {
	r := &receiver{t: t, fail: fail}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	body, _ := io.ReadAll(req.Body)
	wh, err := standardwebhooks.NewWebhook(r.secret)
	if err != nil {
		r.t.Errorf("the secret %q is not a Standard Webhooks secret: %v", r.secret, err)
	}
	// The store runs as of another day, but deliveries are signed at the
	// wall clock's time: the full check, timestamp included, holds.
	if err := wh.Verify(body, req.Header); err != nil {
		r.t.Errorf("signature: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.fail > 0 {
		r.fail--
		http.Error(w, "not now", http.StatusServiceUnavailable)
		return
	}
	var msg map[string]any
	if err := json.Unmarshal(body, &msg); err != nil {
		r.t.Errorf("body %s: %v", body, err)
	}
	r.got = append(r.got, received{req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), msg})
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) seen() (int, []received) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls, append([]received(nil), r.got...)
}

// TestWebhookDeliveredOnceAfterFailures: a receiver that fails five times
// then succeeds gets the delivery once, signed, after backing off; a
// crash between claim and send (a claim that lapses) changes nothing.
func TestWebhookDeliveredOnceAfterFailures(t *testing.T) {
	st, c := openStore(t)
	ctx := context.Background()
	m, _ := store.ParseMasterKey(store.GenerateMasterKey())
	st.SetMasterKey(func() (*store.MasterKey, error) { return m, nil })
	deps := Deps{Owner: "runner", Poster: notify.NewPoster(true), Metrics: metrics.New(st)}
	r := &Runner{Store: st, Owner: "runner", Jobs: Standard(st, deps)}
	run := func() {
		t.Helper()
		if _, err := r.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	run() // the first run starts at the log's end

	flaky, healthy := newReceiver(t, 5), newReceiver(t, 0)
	sys := store.SystemActor("test")
	w, secret, err := st.CreateWebhook(ctx, sys, store.NewWebhook{URL: flaky.srv.URL + "/hook", Events: []string{store.ActionKeyRevoked}})
	if err != nil {
		t.Fatal(err)
	}
	flaky.secret = secret
	_, healthy.secret, err = st.CreateWebhook(ctx, sys, store.NewWebhook{URL: healthy.srv.URL, Events: []string{store.NoticeExpiring}})
	if err != nil {
		t.Fatal(err)
	}
	k, _, err := st.CreateKey(ctx, sys, store.NewKey{Name: "billing", Permissions: []string{"chat"},
		Capacity: store.DefaultCapacity, Frequency: store.DefaultFrequency})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokeKey(ctx, sys, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.CreateKey(ctx, sys, store.NewKey{Name: "expiring", Permissions: []string{"chat"},
		Capacity: store.DefaultCapacity, Frequency: store.DefaultFrequency, ExpiresAt: c.now().Add(24*time.Hour + 30*time.Minute)}); err != nil {
		t.Fatal(err)
	}

	// A process claims the delivery and dies before sending it.
	if _, err := st.QueueWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	if claimed, err := st.ClaimDeliveries(ctx, "dead", DefaultLease, 10, ""); err != nil || len(claimed) != 1 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	c.add(time.Minute)
	run()
	if calls, _ := flaky.seen(); calls != 0 {
		t.Fatalf("%d calls while another owner's claim holds", calls)
	}
	// The claim lapses, then each failure waits longer than the one
	// before: the clock goes to each next try.
	c.add(DefaultLease)
	var tries []time.Time
	for range 10 {
		before, _ := flaky.seen()
		run()
		if after, _ := flaky.seen(); after > before {
			tries = append(tries, c.now())
		}
		_, log, err := st.Webhook(ctx, store.Scope{}, w.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if log[0].State != store.DeliveryWaiting {
			break
		}
		c.add(log[0].NextTry.Sub(c.now()))
	}
	c.add(48 * time.Hour)
	run()
	calls, got := flaky.seen()
	if calls != 6 || len(got) != 1 {
		t.Fatalf("%d calls and %d deliveries, want 6 calls (5 failed) and 1 delivery", calls, len(got))
	}
	for i := 2; i < len(tries); i++ {
		if tries[i].Sub(tries[i-1]) <= tries[i-1].Sub(tries[i-2]) {
			t.Fatalf("tries at %v: the waits do not grow", tries)
		}
	}
	tried, err := metricstest.Scrape(deps.Metrics.Handler())
	if err != nil {
		t.Fatal(err)
	}
	healthyCalls, _ := healthy.seen()
	waiting := tried.Value("keydesk_webhook_deliveries_total", map[string]string{"outcome": store.DeliveryWaiting})
	delivered := tried.Value("keydesk_webhook_deliveries_total", map[string]string{"outcome": store.DeliveryDelivered})
	if waiting != 5 || delivered != float64(1+healthyCalls) {
		t.Fatalf("delivery tries counted: %v waiting, %v delivered; want 5, and 1 + the %d of the healthy receiver", waiting, delivered, healthyCalls)
	}
	d := got[0]
	data, _ := d.body["data"].(map[string]any)
	key, _ := data["key"].(map[string]any)
	signed, _ := strconv.ParseInt(d.timestamp, 10, 64)
	if d.body["type"] != store.ActionKeyRevoked || key["id"] != k.ID || key["name"] != "billing" || time.Since(time.Unix(signed, 0)).Abs() > time.Minute {
		t.Fatalf("delivered %s at %s: %v", d.id, d.timestamp, d.body)
	}
	_, log, err := st.Webhook(ctx, store.Scope{}, w.ID, 10)
	if err != nil || len(log) != 1 || log[0].State != store.DeliveryDelivered || log[0].LastStatus != 204 || log[0].MsgID != d.id {
		t.Fatalf("the log says %+v, %v", log, err)
	}

	// The key expiring tomorrow gave the other webhook its 1-day notice,
	// then, two days on, the one that it expired (0 days left).
	_, notices := healthy.seen()
	var days []any
	for _, n := range notices {
		data, _ := n.body["data"].(map[string]any)
		key, _ := data["key"].(map[string]any)
		if n.body["type"] != store.NoticeExpiring || key["name"] != "expiring" || key["expires_at"] == nil {
			t.Fatalf("the notices' webhook got %v", n.body)
		}
		days = append(days, data["days_left"])
	}
	if len(days) != 2 || days[0] != 1.0 || days[1] != 0.0 {
		t.Fatalf("notices with days left %v, want [1 0]", days)
	}
}
