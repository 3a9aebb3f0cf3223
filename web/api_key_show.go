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

// requireAPIRights lets in the API callers whose token grants every one
// of rights; others get a FORBIDDEN answer that names what is missing.
func (h *handler) requireAPIRights(rights ...store.Right) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u, _ := apiCaller(c)
			for _, r := range rights {
				if !u.Can(r) {
					return apiFail(c, store.Errorf(store.EFORBIDDEN, "", "Your token does not grant %s.", r))
				}
			}
			return next(c)
		}
	}
}
