package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
	"github.com/keydesk/keydesk/views/urls"
)

func (h *handler) setUserRole(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	var v views.UserDetails
	roleID, ok := form.ParseID(c.FormValue("role"))
	if !ok {
		v.Errors.Add("role", "Choose a role.")
		return h.userPage(c, http.StatusUnprocessableEntity, v)
	}
	u, err := h.store.SetUserRole(c.Request().Context(), h.actor(c), id, roleID)
	if err != nil {
		if err := v.Errors.Take(err); err != nil {
			return err
		}
		return h.userPage(c, http.StatusUnprocessableEntity, v)
	}
	h.addFlash(c, false, "“"+u.Username+"” now has the role "+u.RoleName+".")
	return c.Redirect(http.StatusSeeOther, urls.User(id))
}
