package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// apiDeleteKey deletes a key; its history stays in the audit log.
func (h *handler) apiDeleteKey(c echo.Context) error {
	if _, err := h.store.DeleteKey(c.Request().Context(), apiActor(c), c.Param("id")); err != nil {
		return apiFail(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}
