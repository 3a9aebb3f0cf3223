package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
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

// apiNewPermission is a permission to add to the catalog.
type apiNewPermission struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// apiCreatePermission adds a permission to the catalog, as Settings does:
// keys can be given it from then on.
func (h *handler) apiCreatePermission(c echo.Context) error {
	var in apiNewPermission
	if ok, err := decodeAPIBody(c, &in); !ok {
		return err
	}
	p, err := h.store.CreatePermission(c.Request().Context(), apiActor(c), store.Permission{Name: in.Name, Description: in.Description})
	if err != nil {
		return apiFail(c, err, "permission_name", "name", "permission_description", "description")
	}
	return c.JSON(http.StatusCreated, map[string]string{"name": p.Name, "description": p.Description})
}
