package web

import (
	"context"
	"crypto/rand"
	"encoding/gob"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/urls"
)

const sessionName = "keydesk_session"

// Session values.
const (
	keyUserID    = "uid"
	keyVersion   = "ver"  // the user's session version at login
	keyIssued    = "iat"  // login time, Unix seconds
	keySeen      = "seen" // last request, Unix seconds
	keySession   = "sid"  // random, new at each login, so a cookie from before a login is never reused
	keyPassword  = "pwd"  // when the user last typed their password (login, reveal), Unix seconds
	flashOK      = "ok"
	flashFailed  = "failed"
	flashWarning = "warning" // a views.Flash, for its link
)

// Warnings are kept in the session as they are shown, link included.
func init() { gob.Register(views.Flash{}) }

type ctxKey int

const (
	sessionCtxKey ctxKey = iota
	userCtxKey
)

// loadSession reads the session cookie and, when it belongs to a user who
// may still use it, puts the user in the request context.
func (h *handler) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if skipsSession(r.URL.Path) {
			return next(c)
		}
		// A cookie that does not decode (old keys, tampering) is an empty session.
		sess, _ := h.cookies.Get(r, sessionName)
		ctx := context.WithValue(r.Context(), sessionCtxKey, sess)
		expired := false
		if uid, ok := sess.Values[keyUserID].(int64); ok {
			u, err := h.store.User(ctx, store.Scope{}, uid) // the user themselves, wherever they are
			switch {
			case err != nil && store.ErrorCode(err) != store.ENOTFOUND:
				return err
			case err == nil && h.sessionValid(sess, u):
				ctx = context.WithValue(ctx, userCtxKey, u)
				h.touchSession(c, sess)
			default:
				expired = true
				clearLogin(sess)
			}
		}
		c.SetRequest(r.WithContext(ctx))
		if expired {
			h.addFlash(c, true, "Your session has ended. Please log in again.")
		}
		return next(c)
	}
}

// sessionValid reports whether sess may still act for u.
func (h *handler) sessionValid(sess *sessions.Session, u store.User) bool {
	version, _ := sess.Values[keyVersion].(int64)
	issued, _ := sess.Values[keyIssued].(int64)
	seen, _ := sess.Values[keySeen].(int64)
	now := h.now().Unix()
	return !u.Disabled() && version == u.SessionVersion &&
		now-issued < int64(h.cfg.AbsoluteTimeout.Seconds()) &&
		now-seen < int64(h.cfg.IdleTimeout.Seconds())
}

// touchSession records that the session is in use, for the idle timeout.
// It rewrites the cookie only when "last seen" is touchEvery old, so that
// the idle timeout holds to within that.
func (h *handler) touchSession(c echo.Context, sess *sessions.Session) {
	now := h.now().Unix()
	if seen, _ := sess.Values[keySeen].(int64); now-seen >= touchEvery(h.cfg.IdleTimeout) {
		sess.Values[keySeen] = now
		h.saveSession(c, sess)
	}
}

// touchEvery is how stale, in seconds, "last seen" may be: a tenth of the
// idle timeout, at most 5 seconds and at least 1.
func touchEvery(idle time.Duration) int64 {
	return int64(max(time.Second, min(5*time.Second, idle/10)) / time.Second)
}

func clearLogin(sess *sessions.Session) {
	for _, k := range []string{keyUserID, keyVersion, keyIssued, keySeen, keySession} {
		delete(sess.Values, k)
	}
}

func (h *handler) saveSession(c echo.Context, sess *sessions.Session) {
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		h.log.Error("save session", "err", err)
	}
}

func session(c echo.Context) (*sessions.Session, bool) {
	sess, ok := c.Request().Context().Value(sessionCtxKey).(*sessions.Session)
	return sess, ok
}

// currentUser returns the logged-in user, if any.
func currentUser(c echo.Context) (store.User, bool) {
	u, ok := c.Request().Context().Value(userCtxKey).(store.User)
	return u, ok
}

// startSession logs u in: a fresh session, so nothing from before the login
// carries over into it.
func (h *handler) startSession(c echo.Context, u store.User) {
	sess, ok := session(c)
	if !ok {
		return
	}
	sess.Values = map[any]any{}
	now := h.now().Unix()
	sess.Values[keyUserID] = u.ID
	sess.Values[keyVersion] = u.SessionVersion
	sess.Values[keyIssued] = now
	sess.Values[keySeen] = now
	sess.Values[keyPassword] = now
	sess.Values[keySession] = rand.Text()
	sess.Options = h.cookieOptions(c)
	h.saveSession(c, sess)
	h.renewCSRF(c)
}

// recentPassword is how long after typing their password a user's CSV
// download holds whole secrets: a session taken later cannot read every
// secret without the password.
const recentPassword = 15 * time.Minute

// passwordTyped records in the session that the user just typed their
// password.
func (h *handler) passwordTyped(c echo.Context) {
	if sess, ok := session(c); ok {
		sess.Values[keyPassword] = h.now().Unix()
		h.saveSession(c, sess)
	}
}

// typedPasswordRecently reports whether the user typed their password
// within recentPassword.
func (h *handler) typedPasswordRecently(c echo.Context) bool {
	sess, ok := session(c)
	if !ok {
		return false
	}
	at, _ := sess.Values[keyPassword].(int64)
	return h.now().Sub(time.Unix(at, 0)) < recentPassword
}

// renewCSRF gives the browser a new CSRF token, at login and logout, so
// that no token outlives the session it was issued in.
func (h *handler) renewCSRF(c echo.Context) {
	o := h.cookieOptions(c)
	token := rand.Text()
	c.SetCookie(&http.Cookie{Name: csrfCookie, Value: token, Path: "/", MaxAge: o.MaxAge,
		HttpOnly: true, Secure: o.Secure, SameSite: http.SameSiteLaxMode})
	c.Set("csrf", token)
}

// cookieOptions are the store's options, Secure when this request came
// over TLS.
func (h *handler) cookieOptions(c echo.Context) *sessions.Options {
	o := *h.cookies.Options
	o.Secure = o.Secure || c.Request().TLS != nil
	return &o
}

// addFlash queues a message for the next page shown.
func (h *handler) addFlash(c echo.Context, failed bool, msg string) {
	sess, ok := session(c)
	if !ok {
		return
	}
	key := flashOK
	if failed {
		key = flashFailed
	}
	sess.AddFlash(msg, key)
	sess.Options = h.cookieOptions(c)
	h.saveSession(c, sess)
}

// addWarning queues a warning for the next page shown, with a link to
// where it can be dealt with: link is a path the code chooses, never input.
func (h *handler) addWarning(c echo.Context, msg, linkText, link string) {
	sess, ok := session(c)
	if !ok {
		return
	}
	sess.AddFlash(views.Flash{Warning: true, Message: msg, LinkText: linkText, Link: link}, flashWarning)
	sess.Options = h.cookieOptions(c)
	h.saveSession(c, sess)
}

// popFlashes takes the queued messages.
func (h *handler) popFlashes(c echo.Context) []views.Flash {
	sess, ok := session(c)
	if !ok {
		return nil
	}
	var out []views.Flash
	for _, key := range []string{flashFailed, flashWarning, flashOK} {
		for _, f := range sess.Flashes(key) {
			switch f := f.(type) {
			case string:
				out = append(out, views.Flash{Error: key == flashFailed, Message: f})
			case views.Flash:
				out = append(out, f)
			}
		}
	}
	if len(out) > 0 {
		h.saveSession(c, sess)
	}
	return out
}

// requireLogin sends people who are not logged in to the login page, and
// back to where they were going afterwards.
func (h *handler) requireLogin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := currentUser(c); ok {
			return next(c)
		}
		target := c.Request().URL.RequestURI()
		if isHTMX(c) {
			// htmx would swap the login page into a fragment; send the whole
			// page there instead, and come back to the page, not the fragment.
			if cur, err := url.Parse(c.Request().Header.Get("HX-Current-URL")); err == nil {
				target = cur.RequestURI()
			}
			c.Response().Header().Set("HX-Redirect", loginURL(target))
			return c.NoContent(http.StatusUnauthorized)
		}
		if c.Request().Method != http.MethodGet {
			// After login, go back to the page the form was on, not to its action.
			target = "/"
			if ref, err := url.Parse(c.Request().Referer()); err == nil && ref.Path != "" {
				target = ref.RequestURI()
			}
		}
		return c.Redirect(http.StatusSeeOther, loginURL(target))
	}
}

func loginURL(next string) string {
	next = localPath(next, "/")
	if next == "/" {
		return urls.Login
	}
	return urls.LoginNext(next)
}

// requireRights refuses a request from a user who lacks any of rights.
func (h *handler) requireRights(rights ...store.Right) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if u, ok := currentUser(c); !ok || !u.Can(rights...) {
				return h.denied(c)
			}
			return next(c)
		}
	}
}

var errForbidden = echo.NewHTTPError(http.StatusForbidden, "You do not have the right to do this. Ask an administrator if you need it.")

// denied refuses a request for want of a right, and records it.
func (h *handler) denied(c echo.Context) error {
	route := c.Request().Method + " " + c.Path()
	if err := h.store.RecordAccessDenied(c.Request().Context(), h.actor(c), route, c.Request().URL.Path); err != nil {
		return err
	}
	return errForbidden
}

// actor is who the request acts as, for the audit log.
func (h *handler) actor(c echo.Context) store.Actor {
	u, _ := currentUser(c)
	return store.Actor{
		UserID:     u.ID,
		Username:   u.Username,
		Scope:      u.Scope(),
		ClientAddr: c.RealIP(),
		UserAgent:  c.Request().UserAgent(),
	}
}

// scope is the part of the organization tree the logged-in user may see;
// nothing when nobody is logged in.
func scope(c echo.Context) store.Scope {
	u, _ := currentUser(c)
	return u.Scope()
}
