package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
)

// revealKey shows a recoverable key's secret again to a user who typed
// their password (201 like a create, uncached). A wrong password comes
// back beside its field; too many reveals in a short time are refused.
func (h *handler) revealKey(c echo.Context) error {
	id := c.Param("id")
	r, err := h.store.RevealKey(c.Request().Context(), h.actor(c), id, c.FormValue("password"))
	if c.Request().Header.Get("X-Keydesk-Copy") == "1" {
		return copySecret(c, r, err)
	}
	if err == nil {
		// The page holds the secret: no cache may keep it.
		c.Response().Header().Set("Cache-Control", "no-store")
		p := h.page(c, "Secret revealed", "keys")
		collected := !r.Key.Recoverable // kept only until this reveal
		return render(c, http.StatusOK, views.KeyRevealedPage(p, r.Key, r.Secret, collected), nil)
	}
	var errs form.Errors
	if err := errs.Take(err); err != nil {
		return err
	}
	return h.keyFormError(c, id, errs, func(*views.KeyDetails) {})
}

// setKeySchedule sets how often a key is rotated; empty is never.
func (h *handler) setKeySchedule(c echo.Context) error {
	id := c.Param("id")
	typed := c.FormValue("rotate_every_days")
	var errs form.Errors
	days := form.ParseRotateEvery(typed, &errs)
	if !errs.Any() {
		k, err := h.store.SetKeySchedule(c.Request().Context(), h.actor(c), id, days)
		if err == nil {
			msg := "Key “" + k.Name + "” is not rotated on a schedule."
			if days > 0 {
				msg = "Key “" + k.Name + "” is rotated every " + store.Thousands(days) + " days; next on " + k.RotateDueAt.Format("2006-01-02 15:04 UTC") + "."
			}
			return h.keyChanged(c, k, msg)
		}
		if err := errs.Take(err); err != nil {
			return err
		}
	}
	return h.keyFormError(c, id, errs, func(v *views.KeyDetails) { v.RotateEvery = typed })
}

// copySecret answers the list's "Copy key to clipboard": the secret as JSON
// for the script to put on the clipboard, or what went wrong.
func copySecret(c echo.Context, r store.Reveal, err error) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	if err != nil {
		status, msg := statusOf(err)
		if status >= 500 {
			return err
		}
		return c.JSON(status, map[string]string{"error": msg})
	}
	return c.JSON(http.StatusOK, map[string]string{"secret": r.Secret})
}
