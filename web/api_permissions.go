package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// apiPermissions answers the permission catalog.
func (h *handler) apiPermissions(c echo.Context) error {
	perms, err := h.store.Permissions(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]map[string]string, len(perms))
	for i, p := range perms {
		out[i] = map[string]string{"name": p.Name, "description": p.Description}
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}
