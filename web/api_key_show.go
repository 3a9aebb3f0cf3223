package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
)

// apiShowKey answers one key of the caller's organizations.
func (h *handler) apiShowKey(c echo.Context) error {
	u, _ := apiCaller(c)
	ctx := c.Request().Context()
	k, err := h.store.Key(ctx, u.Scope(), c.Param("id"))
	if err != nil {
		return apiFail(c, err)
	}
	root, err := h.store.RootOrgID(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiKeyOf(k, h.now(), root))
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
