package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// apiRevokeKey revokes a key, for good.
func (h *handler) apiRevokeKey(c echo.Context) error {
	k, err := h.store.RevokeKey(c.Request().Context(), apiActor(c), c.Param("id"))
	if err != nil {
		return apiFail(c, err)
	}
	return h.apiAnswerKey(c, http.StatusOK, k)
}
