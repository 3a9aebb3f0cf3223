package web

import "github.com/labstack/echo/v4"

func (h *handler) disableKey(c echo.Context) error {
	k, err := h.store.DisableKey(c.Request().Context(), h.actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return h.keyChanged(c, k, "Key “"+k.Name+"” disabled.")
}
