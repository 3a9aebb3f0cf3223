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
)

func (h *handler) showLoginPage(c echo.Context) error {
	next := localPath(c.QueryParam("next"), "")
	if _, ok := currentUser(c); ok {
		return c.Redirect(http.StatusSeeOther, localPath(next, "/"))
	}
	return render(c, http.StatusOK, views.LoginPage(h.page(c, "Log in", ""), views.Login{Next: next}), nil)
}

// login checks a username and password. Every failure gets the same
// message; repeated failures, by username or from one address, make the
// next attempt wait.
func (h *handler) login(c echo.Context) error {
	ctx := c.Request().Context()
	v := views.Login{Username: c.FormValue("username"), Next: localPath(c.FormValue("next"), "")}
	actor := h.actor(c)
	actor.Username = store.LoginName(v.Username)
	wait, err := h.store.BeginLogin(ctx, actor)
	if err != nil {
		return err
	}
	if wait > 0 {
		// Refused without looking at the password, and not recorded: the
		// failures that led here are.
		secs := int(wait.Round(time.Second).Seconds())
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		until := h.cfg.Now().Add(wait).UTC().Format("15:04:05 UTC")
		v.Error = fmt.Sprintf("Too many failed attempts. Try again in %s (at %s).", waitText(wait), until)
		return render(c, http.StatusTooManyRequests, views.LoginPage(h.page(c, "Log in", ""), v), nil)
	}
	u, err := h.store.Authenticate(ctx, v.Username, c.FormValue("password"))
	if err != nil {
		if !errors.Is(err, store.ErrBadLogin) {
			return err
		}
		if err := h.store.LoginFailed(ctx, actor); err != nil {
			return err
		}
		v.Error = store.ErrBadLogin.Message
		return render(c, http.StatusUnprocessableEntity, views.LoginPage(h.page(c, "Log in", ""), v), nil)
	}
	h.startSession(c, u)
	actor.UserID, actor.Username = u.ID, u.Username
	if err := h.store.LoginSucceeded(ctx, actor, u); err != nil {
		return err
	}
	if u.FirstPassword {
		h.addFlash(c, true, "You are using the first password Keydesk printed when it started. Change it on your profile now.")
	}
	return c.Redirect(http.StatusSeeOther, localPath(v.Next, "/"))
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
