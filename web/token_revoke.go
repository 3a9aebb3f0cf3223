package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views/urls"
)

// revokeToken revokes one of the user's own access tokens.
func (h *handler) revokeToken(c echo.Context) error {
	t, err := h.store.RevokeOwnToken(c.Request().Context(), h.actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	h.addFlash(c, false, "The token “"+t.Name+"” was revoked: whatever used it is refused from now on.")
	return c.Redirect(http.StatusSeeOther, urls.Profile)
}
