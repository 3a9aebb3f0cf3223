package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/urls"
)

func (h *handler) showLoginPage(c echo.Context) error {
	next := localPath(c.QueryParam("next"), "")
	if _, ok := currentUser(c); ok {
		return c.Redirect(http.StatusSeeOther, localPath(next, "/"))
	}
	return render(c, http.StatusOK, views.LoginPage(h.page(c, "Log in", ""), views.Login{Next: next}), nil)
}

// login checks a username and password. Every failure gets the same
// message; repeated failures from one address make its next attempt wait.
func (h *handler) login(c echo.Context) error {
	v := views.Login{Username: c.FormValue("username"), Next: localPath(c.FormValue("next"), "")}
	u, err := h.store.Login(c.Request().Context(), h.actor(c), v.Username, c.FormValue("password"))
	var tooMany *store.TooManyFailures
	switch {
	case errors.As(err, &tooMany):
		v.Error = h.tooManyFailures(c, tooMany.Wait)
		return render(c, http.StatusTooManyRequests, views.LoginPage(h.page(c, "Log in", ""), v), nil)
	case errors.Is(err, store.ErrBadLogin):
		v.Error = store.ErrBadLogin.Message
		return render(c, http.StatusUnprocessableEntity, views.LoginPage(h.page(c, "Log in", ""), v), nil)
	case err != nil:
		return err
	}
	h.startSession(c, u)
	if u.FirstPassword {
		h.addWarning(c, "You are using the password Keydesk generated and printed when it first started.", "Change it on your profile", urls.Profile)
	}
	return c.Redirect(http.StatusSeeOther, localPath(v.Next, "/"))
}

// tooManyFailures sets Retry-After on a password check that earlier failures
// hold back, and says how long to wait.
func (h *handler) tooManyFailures(c echo.Context, wait time.Duration) string {
	secs := int(wait.Round(time.Second).Seconds())
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	until := h.now().Add(wait).UTC().Format("15:04:05 UTC")
	return fmt.Sprintf("Too many failed attempts. Try again in %s (at %s).", waitText(wait), until)
}

// waitText says how long to wait in words.
func waitText(d time.Duration) string {
	if d <= time.Minute {
		return strconv.Itoa(int(d.Round(time.Second).Seconds())) + " seconds"
	}
	m := int((d + time.Minute - 1) / time.Minute)
	if m == 1 {
		return "1 minute"
	}
	return strconv.Itoa(m) + " minutes"
}
