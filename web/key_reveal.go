package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
)

// revealKey shows a recoverable key's secret again to a user who typed
// their password (uncached). A wrong password comes
// back beside its field; too many reveals in a short time are refused.
func (h *handler) revealKey(c echo.Context) error {
	id := c.Param("id")
	r, err := h.store.RevealKey(c.Request().Context(), h.actor(c), id, c.FormValue("password"))
	if err == nil {
		h.passwordTyped(c)
	}
	if c.Request().Header.Get("X-Keydesk-Copy") == "1" {
		return copySecret(c, r, err)
	}
	if err == nil {
		// The page holds the secret: no cache may keep it.
		c.Response().Header().Set("Cache-Control", "no-store")
		p := h.page(c, "Secret revealed", "keys")
		collected := !r.Key.SecretKept // kept only until this reveal
		return render(c, http.StatusOK, views.KeyRevealedPage(p, r.Key, r.Secret, collected), nil)
	}
	var errs form.Errors
	if err := errs.Take(err); err != nil {
		return err
	}
	return h.keyFormError(c, id, errs, func(*views.KeyDetails) {})
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
