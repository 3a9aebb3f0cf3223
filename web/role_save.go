package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
	"github.com/keydesk/keydesk/views/urls"
)

func (h *handler) showRoleNewPage(c echo.Context) error {
	return h.rolePage(c, http.StatusOK, views.RoleEdit{})
}

func (h *handler) showRolePage(c echo.Context) error {
	id, err := roleID(c)
	if err != nil {
		return err
	}
	r, err := h.store.Role(c.Request().Context(), scope(c), id)
	if err != nil {
		return err
	}
	return h.rolePage(c, http.StatusOK, views.RoleEdit{Role: r, Form: form.RoleForm{Name: r.Name, Rights: r.Rights}})
}

func (h *handler) createRole(c echo.Context) error {
	return h.saveRole(c, 0)
}

func (h *handler) updateRole(c echo.Context) error {
	id, err := roleID(c)
	if err != nil {
		return err
	}
	return h.saveRole(c, id)
}

// saveRole creates a role (id 0) or updates one from the posted form.
func (h *handler) saveRole(c echo.Context, id int64) error {
	ctx := c.Request().Context()
	values, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	v := views.RoleEdit{Form: form.ParseRoleForm(values)}
	if id != 0 {
		if v.Role, err = h.store.Role(ctx, scope(c), id); err != nil {
			return err
		}
	}
	if in, ok := v.Form.Validate(); ok {
		var r store.Role
		if id == 0 {
			r, err = h.store.CreateRole(ctx, h.actor(c), in)
		} else {
			r, err = h.store.UpdateRole(ctx, h.actor(c), id, in)
		}
		if err == nil {
			h.addFlash(c, false, "Role “"+r.Name+"” saved.")
			return c.Redirect(http.StatusSeeOther, urls.Roles)
		}
		if err := v.Form.Errors.Take(err); err != nil {
			return err
		}
	}
	return h.rolePage(c, http.StatusUnprocessableEntity, v)
}

func (h *handler) rolePage(c echo.Context, status int, v views.RoleEdit) error {
	title := "New role"
	if v.Role.ID != 0 {
		title = v.Role.Name
	}
	return render(c, status, views.RolePage(h.page(c, title, "roles"), v), nil)
}

func roleID(c echo.Context) (int64, error) {
	id, ok := form.ParseID(c.Param("id"))
	if !ok {
		return 0, echo.NewHTTPError(http.StatusNotFound)
	}
	return id, nil
}
