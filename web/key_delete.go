package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

func (h *handler) deleteKey(c echo.Context) error {
	k, err := h.store.DeleteKey(c.Request().Context(), h.actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	h.addFlash(c, false, "Key “"+k.Name+"” deleted.")
	// The key's own page is gone; go back to the list instead.
	back := localPath(c.FormValue("return"), "/keys")
	if strings.HasPrefix(back, "/keys/"+k.ID) {
		back = "/keys"
	}
	return c.Redirect(http.StatusSeeOther, back)
}
