package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustWebhook(t *testing.T, s *Store, actor Actor, in NewWebhook) (Webhook, string) {
	t.Helper()
	if in.URL == "" {
		in.URL = "https://hooks.example.com/" + strings.Join(in.Events, "-")
	}
	w, secret, err := s.CreateWebhook(context.Background(), actor, in)
	if err != nil {
		t.Fatalf("create webhook: %v", err)
	}
	return w, secret
}

// queued claims every due delivery and returns the types each webhook got,
// with the bodies.
func queued(t *testing.T, s *Store) (map[string][]string, []Delivery) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.QueueWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	all, err := s.ClaimDeliveries(ctx, "test", time.Hour, 1000, "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, d := range all {
		got[d.WebhookID] = append(got[d.WebhookID], d.Type)
		if _, err := s.RecordDeliveryTry(ctx, "test", d, 204, nil); err != nil {
			t.Fatal(err)
		}
	}
	return got, all
}

// TestWebhookFanOut: a webhook gets the events of the types it chose, of
// its organization and below, made after it was, each once.
func TestWebhookFanOut(t *testing.T) {
	s, clock := newTestStore(t)
	withMasterKey(t, s)
	ctx := context.Background()
	_, acme, eu, beta := testOrgs(t, s)
	mustCreateKey(t, s, NewKey{Name: "before", Org: eu.ID})
	queued(t, s) // the first run starts at the log's end

	atAcme, secret := mustWebhook(t, s, testActor, NewWebhook{OrgID: acme.ID, Events: []string{ActionKeyCreated}})
	atRoot, _ := mustWebhook(t, s, testActor, NewWebhook{Events: []string{ActionKeyDeleted, ActionKeyCreated}})
	if !strings.HasPrefix(secret, WebhookSecretPrefix) || len(secret) < 40 {
		t.Fatalf("secret %q", secret)
	}
	clock.Advance(time.Second)
	inEU, _ := mustCreateKey(t, s, NewKey{Name: "in-eu", Org: eu.ID})
	inBeta, _ := mustCreateKey(t, s, NewKey{Name: "in-beta", Org: beta.ID})
	if _, err := s.DeleteKey(ctx, testActor, inBeta.ID); err != nil {
		t.Fatal(err)
	}
	got, all := queued(t, s)
	if want := []string{ActionKeyCreated}; !slices.Equal(got[atAcme.ID], want) {
		t.Fatalf("the webhook at Acme got %v, want %v (its subtree's, of its type)", got[atAcme.ID], want)
	}
	if want := []string{ActionKeyCreated, ActionKeyCreated, ActionKeyDeleted}; !slices.Equal(got[atRoot.ID], want) {
		t.Fatalf("the webhook at the root got %v, want %v", got[atRoot.ID], want)
	}
	var body struct {
		Type, Timestamp string
		Data            struct {
			Event struct {
				Action   string
				TargetID string `json:"target_id"`
			}
			Key struct {
				ID, Name, Org string
				ExpiresAt     *string `json:"expires_at"`
			}
			Org struct{ ID, Path string }
		}
	}
	if err := json.Unmarshal([]byte(all[0].Body), &body); err != nil {
		t.Fatal(err)
	}
	if body.Type != ActionKeyCreated || body.Data.Key.ID != inEU.ID || body.Data.Key.Name != "in-eu" || body.Data.Org.ID != eu.ID ||
		body.Data.Org.Path != eu.Path || body.Timestamp != clock.Now().Format(time.RFC3339) || body.Data.Key.ExpiresAt != nil {
		t.Fatalf("body %s", all[0].Body)
	}
	if again, _ := queued(t, s); len(again) != 0 {
		t.Fatalf("a second run queued %v again", again)
	}

	// Scope: another organization's webhook does not exist for Beta's
	// people; deleting it is one event.
	betaActor := Actor{Username: "beta-admin", Scope: orgScope(orgByIDForTest(t, s, beta.ID).ids)}
	if _, _, err := s.Webhook(ctx, betaActor.Scope, atAcme.ID, 10); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("a webhook outside the scope: %v", err)
	}
	if _, err := s.DeleteWebhook(ctx, betaActor, atAcme.ID); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("deleting one outside the scope: %v", err)
	}
	if list, _ := s.Webhooks(ctx, betaActor.Scope); len(list) != 0 {
		t.Fatalf("Beta sees %d webhooks", len(list))
	}
	if _, err := s.DeleteWebhook(ctx, testActor, atAcme.ID); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "webhooks"); n != 1 {
		t.Fatalf("%d webhooks after a deletion", n)
	}
}

func orgByIDForTest(t *testing.T, s *Store, id string) Org {
	t.Helper()
	o, err := s.Org(context.Background(), Scope{}, id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestWebhookInputAndRetries: bad input is refused beside its field; a
// delivery that keeps failing is tried on RetryDelays' schedule, for more
// than a day, then marked failed.
func TestWebhookInputAndRetries(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	if _, _, err := s.CreateWebhook(ctx, testActor, NewWebhook{URL: "https://x.example.com", Events: []string{ActionKeyCreated}}); ErrorCode(err) != ECONFLICT {
		t.Fatalf("a webhook without a master key: %v", err)
	}
	withMasterKey(t, s)
	for _, c := range []struct {
		in    NewWebhook
		field string
	}{
		{NewWebhook{URL: "ftp://x.example.com", Events: []string{ActionKeyCreated}}, "url"},
		{NewWebhook{URL: "https://user:pw@x.example.com", Events: []string{ActionKeyCreated}}, "url"},
		{NewWebhook{URL: "https://x.example.com"}, "events"},
		{NewWebhook{URL: "https://x.example.com", Events: []string{"key.nonsense"}}, "events"},
		{NewWebhook{URL: "https://x.example.com", Events: []string{ActionKeyCreated}, OrgID: "nope"}, "org"},
	} {
		var se *Error
		if _, _, err := s.CreateWebhook(ctx, testActor, c.in); !errors.As(err, &se) || se.Field != c.field {
			t.Fatalf("%+v: %v, want an error on %s", c.in, err, c.field)
		}
	}
	if n := count(t, s, "webhooks"); n != 0 {
		t.Fatalf("refused input made %d webhooks", n)
	}

	w, _ := mustWebhook(t, s, testActor, NewWebhook{Events: []string{ActionKeyCreated}})
	msg, err := s.QueueTestEvent(ctx, testActor, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	start := clock.Now()
	tries := 0
	for {
		batch, err := s.ClaimDeliveries(ctx, "test", time.Minute, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			clock.Advance(time.Minute)
			if clock.Now().Sub(start) > 48*time.Hour {
				break
			}
			continue
		}
		if len(batch) != 1 || batch[0].MsgID != msg || batch[0].Type != WebhookTestType {
			t.Fatalf("claimed %+v", batch)
		}
		tries++
		if _, err := s.RecordDeliveryTry(ctx, "test", batch[0], 503, errors.New("the receiver answered 503")); err != nil {
			t.Fatal(err)
		}
	}
	_, log, err := s.Webhook(ctx, Scope{}, w.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	d := log[0]
	if tries != len(RetryDelays)+1 || d.State != DeliveryFailed || d.Attempts != tries || d.LastStatus != 503 {
		t.Fatalf("%d tries, delivery %+v", tries, d)
	}
	if span := d.LastTry.Sub(start); span < 24*time.Hour {
		t.Fatalf("gave up after %v, before a day", span)
	}

	// Send again: a fresh round, the same message id.
	if err := s.QueueAgain(ctx, testActor, w.ID, msg); err != nil {
		t.Fatal(err)
	}
	batch, err := s.ClaimDeliveries(ctx, "test", time.Minute, 10, "")
	if err != nil || len(batch) != 1 || batch[0].MsgID != msg || batch[0].Attempts != 0 {
		t.Fatalf("after Send again: %+v, %v", batch, err)
	}
	if err := s.QueueAgain(ctx, testActor, w.ID, "msg_unknown"); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("sending an unknown message again: %v", err)
	}
}

// TestRekeyMovesWebhookSecrets: after a rekey the webhooks' secrets open
// under the new master key only, unchanged.
func TestRekeyMovesWebhookSecrets(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	old := withMasterKey(t, s)
	w, secret := mustWebhook(t, s, testActor, NewWebhook{Events: []string{ActionKeyCreated}})
	next, _ := ParseMasterKey(GenerateMasterKey())
	if n, err := s.Rekey(ctx, old, next); err != nil || n != 1 {
		t.Fatalf("rekey moved %d, %v", n, err)
	}
	s.SetMasterKey(func() (*MasterKey, error) { return next, nil })
	msg, err := s.QueueTestEvent(ctx, testActor, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := s.ClaimDeliveries(ctx, "test", time.Minute, 1, msg)
	if err != nil || len(batch) != 1 || batch[0].Secret != secret {
		t.Fatalf("after a rekey the secret reads %v, %v", batch, err)
	}
	s.SetMasterKey(func() (*MasterKey, error) { return old, nil })
	batch[0].Secret = ""
	if _, err := s.RecordDeliveryTry(ctx, "test", batch[0], 0, errors.New("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.QueueAgain(ctx, testActor, w.ID, msg); err != nil {
		t.Fatal(err)
	}
	if batch, _ := s.ClaimDeliveries(ctx, "test", time.Minute, 1, msg); len(batch) != 1 || batch[0].Secret != "" {
		t.Fatalf("the old master key still opens the secret: %+v", batch)
	}
}

// TestDeliveryClaims: a claim that lapsed and was taken by another owner
// leaves the first owner's answer unrecorded; a delivery being sent cannot
// be sent again meanwhile; a webhook made after an event does not get it.
func TestDeliveryClaims(t *testing.T) {
	s, clock := newTestStore(t)
	withMasterKey(t, s)
	ctx := context.Background()
	queued(t, s) // the first run starts at the log's end
	first, _ := mustWebhook(t, s, testActor, NewWebhook{Events: []string{ActionKeyCreated}})
	clock.Advance(time.Second)
	mustCreateKey(t, s, NewKey{Name: "before-second"})
	clock.Advance(time.Second)
	mustWebhook(t, s, testActor, NewWebhook{URL: "https://other.example.com/x", Events: []string{ActionKeyCreated}})
	if _, err := s.QueueWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	slow, err := s.ClaimDeliveries(ctx, "slow", time.Minute, 10, "")
	if err != nil || len(slow) != 1 || slow[0].WebhookID != first.ID {
		t.Fatalf("claimed %+v, %v: want the first webhook's only (the second came after the event)", slow, err)
	}
	if err := s.QueueAgain(ctx, testActor, first.ID, slow[0].MsgID); ErrorCode(err) != ECONFLICT {
		t.Fatalf("sending again a delivery being sent: %v", err)
	}
	if again, _ := s.ClaimDeliveries(ctx, "console", time.Minute, 1, slow[0].MsgID); len(again) != 0 {
		t.Fatal("a delivery held by another owner was claimed by its message id")
	}
	clock.Advance(2 * time.Minute)
	fast, err := s.ClaimDeliveries(ctx, "fast", time.Minute, 10, "")
	if err != nil || len(fast) != 1 {
		t.Fatalf("after the lease: %+v, %v", fast, err)
	}
	if _, err := s.RecordDeliveryTry(ctx, "fast", fast[0], 204, nil); err != nil {
		t.Fatal(err)
	}
	// The first owner's answer comes late: it must not undo the delivery.
	if _, err := s.RecordDeliveryTry(ctx, "slow", slow[0], 500, errors.New("late")); err != nil {
		t.Fatal(err)
	}
	_, log, err := s.Webhook(ctx, Scope{}, first.ID, 10)
	if err != nil || len(log) != 1 || log[0].State != DeliveryDelivered || log[0].Attempts != 1 || log[0].LastStatus != 204 {
		t.Fatalf("the log says %+v, %v", log, err)
	}
}

// TestDueByNow: after a run as of a day to come, the deliveries it left
// waiting for that day's retries are due now.
func TestDueByNow(t *testing.T) {
	s, clock := newTestStore(t)
	withMasterKey(t, s)
	ctx := context.Background()
	w, _ := mustWebhook(t, s, testActor, NewWebhook{Events: []string{ActionKeyCreated}})
	real := clock.Now()
	clock.Advance(20 * 24 * time.Hour) // as of 20 days ahead
	msg, err := s.QueueTestEvent(ctx, testActor, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	batch, _ := s.ClaimDeliveries(ctx, "cli", time.Minute, 1, msg)
	if _, err := s.RecordDeliveryTry(ctx, "cli", batch[0], 0, errors.New("refused")); err != nil {
		t.Fatal(err)
	}
	if err := s.DueByNow(ctx, real); err != nil {
		t.Fatal(err)
	}
	clock.now = real
	if again, _ := s.ClaimDeliveries(ctx, "serve", time.Minute, 10, ""); len(again) != 1 {
		t.Fatalf("serve finds %d deliveries due, want the one the run left", len(again))
	}
}

func TestWebhookURLShown(t *testing.T) {
	for raw, want := range map[string]string{
		"https://hooks.slack.com/services/T000/B000/XXXXsecretYYYY": "https://hooks.slack.com/…YYYY",
		"https://example.com/hook?token=abcdefgh1234":               "https://example.com/…1234",
		"https://example.com/in":                                    "https://example.com/in",
		"https://h.example/?key=s3cr3t":                             "https://h.example/…cr3t",
		"https://example.com":                                       "https://example.com",
		"::not a url":                                               "(a webhook)",
	} {
		if got := WebhookURLShown(raw); got != want {
			t.Errorf("WebhookURLShown(%q) = %q, want %q", raw, got, want)
		}
	}
}
