package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/urls"
)

// setUserOrg moves a user to another organization of the mover's scope.
func (h *handler) setUserOrg(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	u, err := h.store.SetUserOrg(c.Request().Context(), h.actor(c), id, c.FormValue("org"))
	if err != nil {
		var v views.UserDetails
		if err := v.Errors.Take(err); err != nil {
			return err
		}
		return h.userPage(c, http.StatusUnprocessableEntity, v)
	}
	h.addFlash(c, false, "“"+u.Username+"” moved to another organization.")
	return c.Redirect(http.StatusSeeOther, urls.User(id))
}
