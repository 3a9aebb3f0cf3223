package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views/urls"
)

func (h *handler) deleteKey(c echo.Context) error {
	k, err := h.store.DeleteKey(c.Request().Context(), h.actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	h.addFlash(c, false, "Key “"+k.Name+"” deleted.")
	// The key's own page is gone; go back to the list instead.
	back := localPath(c.FormValue("return"), urls.Keys)
	if strings.HasPrefix(back, urls.Key(k.ID)) {
		back = urls.Keys
	}
	return c.Redirect(http.StatusSeeOther, back)
}
