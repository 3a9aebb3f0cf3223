package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views/urls"
)

func (h *handler) deleteRole(c echo.Context) error {
	id, err := roleID(c)
	if err != nil {
		return err
	}
	r, err := h.store.DeleteRole(c.Request().Context(), h.actor(c), id)
	if err != nil {
		return err
	}
	h.addFlash(c, false, "Role “"+r.Name+"” deleted.")
	return c.Redirect(http.StatusSeeOther, urls.Roles)
}
