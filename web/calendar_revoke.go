package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views/urls"
)

// revokeCalendar ends the user's calendar address.
func (h *handler) revokeCalendar(c echo.Context) error {
	if err := h.store.RevokeCalendar(c.Request().Context(), h.actor(c)); err != nil {
		return err
	}
	h.addFlash(c, false, "Your calendar address no longer works.")
	return c.Redirect(http.StatusSeeOther, urls.Profile)
}
