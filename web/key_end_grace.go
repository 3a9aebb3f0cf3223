package web

import "github.com/labstack/echo/v4"

// endKeyGrace stops every previous secret of a key now.
func (h *handler) endKeyGrace(c echo.Context) error {
	k, err := h.store.EndKeyGrace(c.Request().Context(), h.actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return h.keyChanged(c, k, "Previous secrets of “"+k.Name+"” no longer work.")
}
