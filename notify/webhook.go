package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/keydesk/keydesk/store"
)

// AllowPrivateEnv names the operator's switch that lets webhooks reach
// loopback, link-local and private addresses (and tests use).
const AllowPrivateEnv = "KEYDESK_WEBHOOK_ALLOW_PRIVATE"

// errPrivate refuses a connection to an address inside the network.
var errPrivate = errors.New("the address is loopback, link-local or private, which webhooks may not reach (" + AllowPrivateEnv + "=1 allows it)")

// Poster sends deliveries to webhooks, signed per Standard Webhooks.
type Poster struct {
	client *http.Client
}

// NewPoster makes a Poster. Unless allowPrivate, it refuses to connect to
// loopback, link-local, private and other non-public addresses, checked on
// the address it dials (after DNS), so that a name pointing inside cannot
// get round it; it follows no redirect and uses no proxy for the same
// reason.
func NewPoster(allowPrivate bool) *Poster {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil || !Public(ip) {
				return errPrivate
			}
			return nil
		}
	}
	return &Poster{client: &http.Client{
		Transport: &http.Transport{
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: 10 * time.Second,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       30 * time.Second,
		},
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// cgnat is the shared address space of carrier-grade NAT, private in
// practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Public reports whether ip is an address on the public internet: not
// loopback, link-local, private, unspecified nor multicast.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !cgnat.Contains(ip)
}

// TargetProblem says why a webhook URL is refused before anything is sent
// (a loopback or private address written in it, or localhost), "" when it
// is not; names are judged when they are dialled.
func TargetProblem(rawURL string, allowPrivate bool) string {
	if allowPrivate {
		return ""
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	ip, err := netip.ParseAddr(host)
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || (err == nil && !Public(ip)) {
		return "This server does not deliver to loopback or private addresses. Use the receiver's public address; its operator can allow private ones with " + AllowPrivateEnv + "=1."
	}
	return ""
}

// maxAnswer is how much of a receiver's answer is read.
const maxAnswer = 64 << 10

// Post sends d, signed as of at, and returns the receiver's HTTP status
// (0 when none came) and, unless it was 2xx, why it failed.
func (p *Poster) Post(ctx context.Context, d store.Delivery, at time.Time) (int, error) {
	if d.Secret == "" {
		return 0, errors.New("the webhook's signing secret cannot be read: the server lacks the master key that sealed it")
	}
	wh, err := standardwebhooks.NewWebhook(d.Secret)
	if err != nil {
		return 0, err
	}
	signature, err := wh.Sign(d.MsgID, at, []byte(d.Body))
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, strings.NewReader(d.Body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Keydesk-Webhooks/1")
	req.Header.Set("webhook-id", d.MsgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", signature)
	res, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is on the page already
		}
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, maxAnswer))
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.StatusCode, fmt.Errorf("the receiver answered %s", res.Status)
	}
	return res.StatusCode, nil
}
