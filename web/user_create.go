package web

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
	"github.com/keydesk/keydesk/views/urls"
)

func (h *handler) showUserNewPage(c echo.Context) error {
	return h.userForm(c, http.StatusOK, form.UserForm{})
}

func (h *handler) createUser(c echo.Context) error {
	values, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	f := form.ParseUserForm(values)
	if in, ok := f.Validate(); ok {
		u, err := h.store.CreateUser(c.Request().Context(), h.actor(c), in)
		if err == nil {
			h.addFlash(c, false, "User “"+u.Username+"” created with the role "+u.RoleName+".")
			return c.Redirect(http.StatusSeeOther, urls.User(u.ID))
		}
		if err := f.Errors.Take(err); err != nil {
			return err
		}
	}
	return h.userForm(c, http.StatusUnprocessableEntity, f)
}

// userForm shows the New user form; passwords are never sent back.
func (h *handler) userForm(c echo.Context, status int, f form.UserForm) error {
	roles, err := h.grantableRoles(c)
	if err != nil {
		return err
	}
	orgs, err := h.store.Orgs(c.Request().Context(), scope(c))
	if err != nil {
		return err
	}
	f.Password, f.Confirm = "", ""
	return render(c, status, views.UserNewPage(h.page(c, "New user", "users"), views.UserNew{Form: f, Roles: roles, Orgs: orgs}), nil)
}

// grantableRoles lists the roles the user may give: those whose rights
// they hold themselves. The store refuses the others.
func (h *handler) grantableRoles(c echo.Context) ([]store.Role, error) {
	roles, err := h.store.Roles(c.Request().Context(), scope(c))
	if err != nil {
		return nil, err
	}
	me, _ := currentUser(c)
	return slices.DeleteFunc(roles, func(r store.Role) bool { return !me.Can(r.Rights...) }), nil
}
