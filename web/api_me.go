package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// apiMe answers who the caller is: the token's user, with the rights and
// the organization the token grants, and the token.
func (h *handler) apiMe(c echo.Context) error {
	u, t := apiCaller(c)
	rights := make([]string, len(u.Rights))
	for i, r := range u.Rights {
		rights[i] = string(r)
	}
	return c.JSON(http.StatusOK, map[string]any{
		"user":  map[string]any{"id": u.ID, "username": u.Username, "name": u.DisplayName, "org": u.OrgID, "rights": rights},
		"token": map[string]any{"id": t.ID, "name": t.Name, "expires": t.ExpiresAt},
	})
}
