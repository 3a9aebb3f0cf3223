package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views/urls"
)

func (h *handler) disableUser(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	u, err := h.store.DisableUser(c.Request().Context(), h.actor(c), id)
	if err != nil {
		return err
	}
	h.addFlash(c, false, "User “"+u.Username+"” disabled.")
	return c.Redirect(http.StatusSeeOther, urls.User(id))
}
