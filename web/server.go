// Package web serves the console: routes, middleware and handlers. Handlers
// parse and check input, call the store and pick a view.
package web

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/keydesk/keydesk/jobs"
	"github.com/keydesk/keydesk/metrics"
	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views/urls"
)

// Config is what the console needs besides the store. The zero value of
// each field has a sensible default.
type Config struct {
	Logger *slog.Logger
	// IdleTimeout ends a session nobody used for this long (default 30 minutes).
	IdleTimeout time.Duration
	// AbsoluteTimeout ends any session this long after login (default 12 hours).
	AbsoluteTimeout time.Duration
	// TLS marks cookies Secure and sends HSTS.
	TLS bool
	// VerifyToken, when set, is the bearer token that callers of the
	// verification API must present.
	VerifyToken string
	// Jobs is what the jobs send with: the console sends a webhook's test
	// event and "Send again" at once through its Poster (its Owner is the
	// console's own). Without a Poster they wait for the webhooks job.
	Jobs jobs.Deps
	// AllowPrivateWebhooks lets webhooks point at loopback and private
	// addresses.
	AllowPrivateWebhooks bool
	// PublicURL is where people reach the console, for the links of
	// calendar feeds; empty takes the request's own host.
	PublicURL string
	// APIBurst and APIPerMinute are each access token's allowance on the
	// management API: a burst, then a steady rate (default 120 and 600).
	APIBurst, APIPerMinute int
	// Metrics counts requests and verifications; nil counts nothing.
	Metrics *metrics.Metrics
}

// New returns the console's HTTP handler over st.
func New(ctx context.Context, st *store.Store, cfg Config) (*echo.Echo, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.AbsoluteTimeout <= 0 {
		cfg.AbsoluteTimeout = 12 * time.Hour
	}
	hashKey, blockKey, err := st.SessionKeys(ctx)
	if err != nil {
		return nil, err
	}
	cookies := sessions.NewCookieStore(hashKey, blockKey)
	// The defaults (no HttpOnly, no SameSite, 30 days) are wrong for us.
	cookies.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(cfg.AbsoluteTimeout / time.Second),
		HttpOnly: true,
		Secure:   cfg.TLS,
		SameSite: http.SameSiteLaxMode,
	}
	cookies.MaxAge(cookies.Options.MaxAge)

	// The console claims what it sends at once under a name of its own,
	// so that a claim of the job runner in this process is not taken for
	// its own.
	cfg.Jobs.Owner = "console " + jobs.NewOwner()
	h := &handler{store: st, cfg: cfg, log: cfg.Logger, cookies: cookies,
		apiLimits: apiLimits{burst: cmp.Or(cfg.APIBurst, defaultAPIBurst), perMinute: cmp.Or(cfg.APIPerMinute, defaultAPIPerMinute)}}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// Trust no proxy header for the client address.
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = h.handleError

	crossOrigin := http.NewCrossOriginProtection()
	// Services call the API from anywhere, with no browser; it reads no
	// cookie, and every method gets its JSON answer.
	crossOrigin.AddInsecureBypassPattern("/api/")

	e.Use(
		middleware.Recover(),
		h.logRequests,
		h.securityHeaders,
		middleware.GzipWithConfig(middleware.GzipConfig{
			// Answers under a kilobyte gain nothing; the verification API's
			// are all that small, and skipping it spares its hot path. CSV
			// downloads compress on their routes, faster (see compressCSV).
			MinLength: 1024,
			Skipper: func(c echo.Context) bool {
				p := c.Request().URL.Path
				return p == "/api/v1/keys/verify" || strings.HasSuffix(p, ".csv")
			},
		}),
		// Password forms are a few fields: a small limit keeps the requests
		// that wait for an address's turn to check a password small too.
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "16K", Skipper: func(c echo.Context) bool {
			return !asksForPassword(c.Request().URL.Path)
		}}),
		middleware.BodyLimit("1M"),
		echo.WrapMiddleware(crossOrigin.Handler),
		hideFetchMetadata,
		bodyFormOnly,
		unmaskCSRF,
		middleware.CSRFWithConfig(middleware.CSRFConfig{
			Skipper:        func(c echo.Context) bool { return skipsSession(c.Request().URL.Path) },
			TokenLookup:    "header:X-CSRF-Token,form:_csrf",
			CookieName:     csrfCookie,
			CookiePath:     "/",
			CookieMaxAge:   int(cfg.AbsoluteTimeout / time.Second),
			CookieHTTPOnly: true,
			CookieSecure:   cfg.TLS,
			CookieSameSite: http.SameSiteLaxMode,
			ErrorHandler: func(error, echo.Context) error {
				return echo.NewHTTPError(http.StatusForbidden,
					"This form has expired or did not come from this console. Reload the page and try again.")
			},
		}),
		h.loadSession,
	)
	h.routes(e)
	return e, nil
}

// asksForPassword reports whether the forms posted to path carry a password
// to check.
func asksForPassword(path string) bool {
	return path == urls.Login || path == urls.ProfilePassword
}

// csrfCookie holds the CSRF token that forms and htmx send back.
const csrfCookie = "keydesk_csrf"

// skipsSession reports whether a path is served without a session or a
// CSRF token: assets, probes and the service API.
func skipsSession(path string) bool {
	return strings.HasPrefix(path, "/static/") || strings.HasPrefix(path, "/api/") || path == "/healthz" || path == "/readyz"
}

// hideFetchMetadata removes Sec-Fetch-Site after http.CrossOriginProtection
// has used it: Echo's CSRF middleware would otherwise accept same-origin
// requests without a token, and every state change must carry one.
func hideFetchMetadata(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Request().Header.Del(echo.HeaderSecFetchSite)
		return next(c)
	}
}

// bodyFormOnly parses a posted form and keeps only the body's fields, so
// that c.FormValue, c.FormParams and the CSRF check never read the query:
// credentials, keys and tokens are accepted in the body only. GET and HEAD
// keep the query, which is where their parameters belong.
func bodyFormOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			return next(c)
		}
		var err error
		ct, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/"):
			// The API reads its own JSON body; it has no form fields.
			r.PostForm = url.Values{}
		case ct == echo.MIMEApplicationForm:
			err = r.ParseForm()
		case ct == echo.MIMEMultipartForm:
			err = r.ParseMultipartForm(maxFormMemory)
		default:
			r.PostForm = url.Values{}
		}
		if err != nil {
			var he *echo.HTTPError
			if errors.As(err, &he) {
				return he // the body limit
			}
			return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
		}
		r.Form = r.PostForm
		return next(c)
	}
}

// maxFormMemory is how much of a multipart form is held in memory; the body
// limit keeps every form far below it.
const maxFormMemory = 1 << 20

// securityHeaders go on every response.
func (h *handler) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hd := c.Response().Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "+
			"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		if h.cfg.TLS {
			hd.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		return next(c)
	}
}

// logRequests logs one line per request, and counts it by its route's
// pattern. The query string is left out: it is the user's business, and
// keys are never accepted there anyway. The service API, called at a high
// rate, logs only its failures above debug. Paths that hold a credential
// are logged without it.
func (h *handler) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "(none)"
		}
		h.cfg.Metrics.Request(route, c.Request().Method, c.Response().Status, time.Since(start))
		level := slog.LevelInfo
		if strings.HasPrefix(c.Request().URL.Path, "/api/") && c.Response().Status < 500 {
			level = slog.LevelDebug
		}
		if !h.log.Enabled(c.Request().Context(), level) {
			return nil
		}
		h.log.LogAttrs(c.Request().Context(), level, "request",
			slog.String("method", c.Request().Method),
			slog.String("path", loggedPath(c.Request().URL.Path)),
			slog.Int("status", c.Response().Status),
			slog.Duration("duration", time.Since(start)),
			slog.String("client", c.RealIP()),
		)
		return nil
	}
}

// loggedPath is a request's path as logs may hold it: a calendar feed's
// token is its credential, and is left out.
func loggedPath(path string) string {
	if strings.HasPrefix(path, "/calendar/") {
		return "/calendar/(token).ics"
	}
	return path
}
