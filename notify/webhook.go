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
	"os"
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

// reserved are the special-purpose ranges (IANA's registries) that are
// not the public internet, beside what netip classifies itself: private,
// shared (carrier-grade NAT), benchmarking, documentation, reserved, and
// the IPv6 ranges that carry or stand for something else.
var reserved = func() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
		"::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "fec0::/10",
	} {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}()

// Translated IPv6 ranges whose addresses hold an IPv4 one, which is what
// they reach: NAT64 (its last 32 bits) and 6to4 (bits 16 to 48).
var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// Public reports whether ip is an address on the public internet: not
// loopback, link-local, private, unspecified, multicast nor any other
// special-purpose range; an IPv6 address that carries an IPv4 one is
// judged by that one.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			return Public(netip.AddrFrom4([4]byte(b[12:16])))
		case sixTo4.Contains(ip):
			return Public(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range reserved {
		if p.Contains(ip) {
			return false
		}
	}
	return true
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
		return 0, reachError(err)
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, maxAnswer))
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.StatusCode, fmt.Errorf("the receiver answered %s", res.Status)
	}
	return res.StatusCode, nil
}

// reachError says why a receiver could not be reached without the
// addresses its name resolved to, which would tell the people who read
// the delivery log how the server's network is laid out.
func reachError(err error) error {
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.Is(err, errPrivate):
		return errPrivate
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return errors.New("the receiver did not answer in time")
	case errors.As(err, &dns):
		return errors.New("the receiver's host name does not resolve")
	case errors.As(err, &op) && op.Op == "dial":
		return errors.New("the receiver could not be reached")
	}
	var ue *url.Error
	if errors.As(err, &ue) && errors.As(ue.Err, &op) {
		return errors.New("the connection to the receiver failed")
	}
	if errors.As(err, &ue) {
		return ue.Err // TLS and protocol errors name no address
	}
	return err
}
