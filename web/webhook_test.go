package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/keydesk/keydesk/jobs"
	"github.com/keydesk/keydesk/notify"
	"github.com/keydesk/keydesk/store"
)

// hookReceiver answers with status, and checks each delivery's signature
// against secret with the Standard Webhooks reference library.
type hookReceiver struct {
	mu       sync.Mutex
	secret   string
	status   int
	verified int
	bodies   []string
}

func (r *hookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	body, _ := io.ReadAll(req.Body)
	if wh, err := standardwebhooks.NewWebhook(r.secret); err == nil && wh.VerifyIgnoringTimestamp(body, req.Header) == nil {
		r.verified++
	}
	r.bodies = append(r.bodies, string(body))
	w.WriteHeader(r.status)
}

// TestWebhooksPage: an administrator adds a webhook (refused beside its
// field when the URL is private or no event is chosen), gets its secret
// once, sends a test event that the receiver verifies, sees a failure in
// the log, sends it again, and deletes the webhook; another
// organization's people never see it.
func TestWebhooksPage(t *testing.T) {
	tc := newTestConsole(t)
	admin := tc.loggedIn("admin")
	if admin.get("/webhooks").doc().Find("[data-testid=empty-state]").Length() != 1 {
		t.Fatal("no empty state on a console without webhooks")
	}
	rcv := &hookReceiver{status: http.StatusNoContent}
	srv := httptest.NewServer(rcv)
	defer srv.Close()

	// The operator's switch is off: a loopback receiver is refused.
	res := admin.post("/webhooks", url.Values{"url": {srv.URL + "/in"}, "events": {store.ActionKeyCreated}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	d := res.doc()
	if msg := d.Find("#url-error").Text(); !strings.Contains(msg, "loopback") {
		t.Fatalf("the URL's message says %q", msg)
	}
	if v := d.Find("[data-testid=webhook-url-input]").AttrOr("value", ""); v != srv.URL+"/in" {
		t.Fatalf("the form lost the URL: %q", v)
	}
	res = admin.post("/webhooks", url.Values{"url": {"ftp://hooks.example.com/x"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if d := res.doc(); d.Find("#events-error").Text() == "" || d.Find("#url-error").Text() == "" {
		t.Fatal("a bad URL and no event type: not both marked at once")
	}
	if list, _ := tc.store.Webhooks(t.Context(), store.Scope{}); len(list) != 0 {
		t.Fatalf("refused forms made %d webhooks", len(list))
	}

	// With the switch on, and a sender, as serve sets them.
	h, err := New(t.Context(), tc.store, Config{Logger: discardLogger(), AllowPrivateWebhooks: true,
		Jobs: jobs.Deps{Owner: "console", Poster: notify.NewPoster(true)}})
	if err != nil {
		t.Fatal(err)
	}
	tc.h = h
	res = admin.post("/webhooks", url.Values{"url": {srv.URL + "/in"}, "events": {store.ActionKeyCreated, store.NoticeExpiring}})
	wantStatus(t, res, http.StatusCreated)
	if cc := res.Header().Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("the secret's page may be cached: %q", cc)
	}
	rcv.secret = res.doc().Find("[data-testid=secret]").AttrOr("value", "")
	if !strings.HasPrefix(rcv.secret, "whsec_") {
		t.Fatalf("secret %q", rcv.secret)
	}
	list, _ := tc.store.Webhooks(t.Context(), store.Scope{})
	if len(list) != 1 {
		t.Fatalf("%d webhooks", len(list))
	}
	hook := list[0]
	if strings.Contains(admin.get("/webhooks/"+hook.ID).Body.String(), rcv.secret) || strings.Contains(admin.get("/webhooks").Body.String(), rcv.secret) {
		t.Fatal("the secret is shown again")
	}

	wantStatus(t, admin.post("/webhooks/"+hook.ID+"/test", nil), http.StatusSeeOther)
	page := admin.get("/webhooks/" + hook.ID)
	if full := page.testid("webhook-full-url"); full != srv.URL+"/in" {
		t.Fatalf("the whole URL shows as %q", full)
	}
	if msg := page.testid("flash"); msg != "Test event delivered: the receiver answered HTTP 204." {
		t.Fatalf("flash %q", msg)
	}
	if rcv.verified != 1 || !strings.Contains(rcv.bodies[0], `"type":"webhook.test"`) {
		t.Fatalf("the receiver verified %d of %q", rcv.verified, rcv.bodies)
	}
	row := page.doc().Find("[data-testid=delivery-row]")
	if row.Length() != 1 || row.Find("[data-testid=delivery-state]").Text() != "Delivered" || row.Find("[data-testid=delivery-answer]").Text() != "HTTP 204" {
		t.Fatalf("the log shows %d rows: %q", row.Length(), row.Text())
	}

	// The receiver fails: the log says so, and when it is tried again.
	rcv.status = http.StatusServiceUnavailable
	msg := row.AttrOr("data-msg", "")
	wantStatus(t, admin.post("/webhooks/"+hook.ID+"/deliveries/"+msg+"/send", nil), http.StatusSeeOther)
	page = admin.get("/webhooks/" + hook.ID)
	if got := page.testid("flash"); !strings.HasPrefix(got, "Delivery not delivered: the receiver answered 503 Service Unavailable. It will be tried again at ") {
		t.Fatalf("flash %q", got)
	}
	row = page.doc().Find("[data-testid=delivery-row]")
	if row.Find("[data-testid=delivery-state]").Text() != "Waiting" || !strings.Contains(row.Text(), "503") {
		t.Fatalf("after a failure the log shows %q", row.Text())
	}

	// Another organization's administrator does not see it.
	other := tc.newOrg("Other", "")
	tc.newUserAt("other-admin", store.RoleAdministrator, other)
	outsider := tc.loggedIn("other-admin")
	wantStatus(t, outsider.get("/webhooks/"+hook.ID), http.StatusNotFound)
	wantStatus(t, outsider.post("/webhooks/"+hook.ID+"/delete", nil), http.StatusNotFound)
	wantStatus(t, outsider.post("/webhooks/"+hook.ID+"/test", nil), http.StatusNotFound)
	wantStatus(t, outsider.post("/webhooks/"+hook.ID+"/deliveries/"+msg+"/send", nil), http.StatusNotFound)
	if outsider.get("/webhooks").doc().Find("[data-testid=webhook-row]").Length() != 0 {
		t.Fatal("another organization's webhook is listed")
	}

	last := tc.lastEventID()
	wantStatus(t, admin.post("/webhooks/"+hook.ID+"/delete", nil), http.StatusSeeOther)
	if list, _ := tc.store.Webhooks(context.Background(), store.Scope{}); len(list) != 0 {
		t.Fatal("the webhook is still there")
	}
	if ev := tc.eventsSince(last); len(ev) != 1 || ev[0].Action != store.ActionWebhookDeleted || ev[0].TargetName != srv.URL+"/in" {
		t.Fatalf("events %+v", ev)
	}
}
