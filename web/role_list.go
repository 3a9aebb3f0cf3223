package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views"
)

func (h *handler) showRoleListPage(c echo.Context) error {
	roles, err := h.store.Roles(c.Request().Context(), scope(c))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RoleListPage(h.page(c, "Roles", "roles"), roles), nil)
}
