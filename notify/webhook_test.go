package notify

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/keydesk/keydesk/store"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// TestPostIsSignedPerStandardWebhooks: the reference library accepts what
// Post sends, timestamp included, and refuses it under another secret.
func TestPostIsSignedPerStandardWebhooks(t *testing.T) {
	verdicts := make(chan error, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		right, _ := standardwebhooks.NewWebhook(testSecret)
		wrong, _ := standardwebhooks.NewWebhook("whsec_" + strings.Repeat("A", 32))
		if err := wrong.Verify(body, r.Header); err == nil {
			t.Error("another secret verifies the delivery")
		}
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
		}
		verdicts <- right.Verify(body, r.Header)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	d := store.Delivery{MsgID: "msg_1", URL: srv.URL, Secret: testSecret, Body: `{"type":"webhook.test"}`}
	status, err := NewPoster(true).Post(context.Background(), d, time.Now())
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("status %d, %v", status, err)
	}
	if err := <-verdicts; err != nil {
		t.Fatalf("the reference library refuses the signature: %v", err)
	}
	// A delivery signed an hour ago is stale to the receiver.
	if _, err := NewPoster(true).Post(context.Background(), d, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := <-verdicts; err == nil {
		t.Fatal("a signature an hour old verifies")
	}
}

// TestPrivateTargetsAreRefused: without the operator's switch nothing is
// sent to loopback or private addresses, neither written in the URL nor
// reached through a name.
func TestPrivateTargetsAreRefused(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }))
	defer srv.Close()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':'):]
	for _, u := range []string{srv.URL, "http://localhost" + port, "http://127.0.0.2" + port} {
		status, err := NewPoster(false).Post(context.Background(), store.Delivery{MsgID: "m", URL: u, Secret: testSecret, Body: "{}"}, time.Now())
		if err == nil || status != 0 || !strings.Contains(err.Error(), AllowPrivateEnv) {
			t.Fatalf("%s: status %d, %v", u, status, err)
		}
	}
	if calls != 0 {
		t.Fatalf("the private receiver was called %d times", calls)
	}
	if status, err := NewPoster(true).Post(context.Background(), store.Delivery{MsgID: "m", URL: srv.URL, Secret: testSecret, Body: "{}"}, time.Now()); err != nil || status != 200 {
		t.Fatalf("with the switch on: %d, %v", status, err)
	}
	for addr, public := range map[string]bool{
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.0": false, "::1": false, "fe80::1": false, "fc00::1": false, "::ffff:10.0.0.1": false,
		"64:ff9b::a9fe:a9fe": false, "64:ff9b::7f00:1": false, "2002:7f00:1::1": false, "2002:a00:1::1": false,
		"::7f00:1": false, "fec0::1": false, "0.1.2.3": false, "198.18.0.1": false, "192.0.0.1": false,
		"240.0.0.1": false, "2001:db8::1": false, "2001::1": false, "ff02::1": false,
		"93.184.215.14": true, "2606:4700::1111": true, "64:ff9b::5db8:d70e": true, "2002:5db8:d70e::1": true,
	} {
		if got := Public(netip.MustParseAddr(addr)); got != public {
			t.Errorf("Public(%s) = %v", addr, got)
		}
	}
	for url, refused := range map[string]bool{
		"http://127.0.0.1/x": true, "https://localhost/": true, "https://a.localhost/": true, "http://[::1]:8080/": true,
		"https://10.0.0.8/": true, "https://hooks.example.com/x": false, "https://93.184.215.14/": false,
	} {
		if got := TargetProblem(url, false) != ""; got != refused {
			t.Errorf("TargetProblem(%s) refuses: %v", url, got)
		}
		if TargetProblem(url, true) != "" {
			t.Errorf("with the switch on, %s is refused", url)
		}
	}
}

// TestUnreachableReceiverNamesNoAddress: the failure a delivery records
// says what went wrong without the address a name resolved to.
func TestUnreachableReceiverNamesNoAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	addr := srv.Listener.Addr().String()
	srv.Close() // nothing listens there now
	_, err := NewPoster(true).Post(context.Background(), store.Delivery{MsgID: "m", URL: "http://" + addr + "/x", Secret: testSecret, Body: "{}"}, time.Now())
	if err == nil || strings.Contains(err.Error(), "127.0.0.1") || err.Error() != "the receiver could not be reached" {
		t.Fatalf("error %v", err)
	}
	_, err = NewPoster(true).Post(context.Background(), store.Delivery{MsgID: "m", URL: "http://no-such-host.invalid/x", Secret: testSecret, Body: "{}"}, time.Now())
	if err == nil || err.Error() != "the receiver's host name does not resolve" {
		t.Fatalf("error %v", err)
	}
}
