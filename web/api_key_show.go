package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
)

// apiShowKey answers one key of the caller's organizations.
func (h *handler) apiShowKey(c echo.Context) error {
	u, _ := apiCaller(c)
	k, err := h.store.Key(c.Request().Context(), u.Scope(), c.Param("id"))
	if err != nil {
		return apiFail(c, err)
	}
	return h.apiAnswerKey(c, http.StatusOK, k)
}

// apiAnswerKey answers a key in the API's shape.
func (h *handler) apiAnswerKey(c echo.Context, status int, k store.Key) error {
	root, err := h.store.RootOrgID(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(status, apiKeyOf(k, h.now(), root))
}
