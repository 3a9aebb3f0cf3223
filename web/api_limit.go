package web

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/keydesk/keydesk/store"
)

// The management API's allowance per token unless the configuration says
// otherwise: a burst, then a steady rate, so that a runaway script cannot
// starve the console.
const (
	defaultAPIBurst     = 120
	defaultAPIPerMinute = 600
)

// apiLimits holds each token's allowance.
type apiLimits struct {
	burst     int
	perMinute int
	mu        sync.Mutex
	byToken   map[string]*rate.Limiter
}

// take spends one request of the token's allowance at now, and says
// whether it was there, what is left, and when the allowance is whole
// again (or, refused, when the next request may come).
func (l *apiLimits) take(token string, now time.Time) (ok bool, left int, reset time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byToken == nil || len(l.byToken) > 100_000 {
		l.byToken = map[string]*rate.Limiter{}
	}
	lim := l.byToken[token]
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(l.perMinute)/60, l.burst)
		l.byToken[token] = lim
	}
	ok = lim.AllowN(now, 1)
	tokens := lim.TokensAt(now)
	left = int(math.Max(0, math.Floor(tokens)))
	perToken := time.Minute / time.Duration(l.perMinute)
	if ok {
		reset = time.Duration((float64(l.burst) - tokens) * float64(perToken))
	} else {
		reset = time.Duration((1 - tokens) * float64(perToken))
	}
	return ok, left, reset
}

// limitAPI spends one request of the caller's token's allowance, says
// what is left in the RateLimit-* headers, and refuses with RATE_LIMITED
// when nothing is.
func (h *handler) limitAPI(c echo.Context) error {
	_, t := apiCaller(c)
	ok, left, reset := h.apiLimits.take(t.ID, h.now())
	hd := c.Response().Header()
	secs := strconv.Itoa(int(math.Ceil(reset.Seconds())))
	hd.Set("RateLimit-Limit", strconv.Itoa(h.apiLimits.burst))
	hd.Set("RateLimit-Remaining", strconv.Itoa(left))
	hd.Set("RateLimit-Reset", secs)
	if !ok {
		h.cfg.Metrics.TokenLimited()
		hd.Set("Retry-After", secs)
		return apiFail(c, store.Errorf(store.ELIMITED, "", "This token has made too many requests: wait %s seconds.", secs))
	}
	return nil
}
