package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
)

func (h *handler) setUserRole(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	roleID, ok := form.ParseID(c.FormValue("role"))
	if !ok {
		return h.userPage(c, http.StatusUnprocessableEntity, views.UserDetails{RoleErr: "Choose a role."})
	}
	u, err := h.store.SetUserRole(c.Request().Context(), h.actor(c), id, roleID)
	var se *store.Error
	if errors.As(err, &se) && se.Field == "role" {
		return h.userPage(c, http.StatusUnprocessableEntity, views.UserDetails{RoleErr: se.Message})
	}
	if err != nil {
		return err
	}
	h.addFlash(c, false, "“"+u.Username+"” now has the role "+u.RoleName+".")
	return c.Redirect(http.StatusSeeOther, "/users/"+itoa64(id))
}
