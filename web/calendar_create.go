package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/urls"
)

// createCalendarToken gives the user a new calendar address, ending the one they
// had, and shows it once.
func (h *handler) createCalendarToken(c echo.Context) error {
	token, err := h.store.CreateCalendarToken(c.Request().Context(), h.actor(c))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	feed := h.consoleURL(c).JoinPath(urls.Calendar(token))
	return h.profilePage(c, http.StatusCreated, views.Profile{NewCalendarURL: feed.String()})
}
