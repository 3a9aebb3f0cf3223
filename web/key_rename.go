package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
)

// renameKey gives a key a new name; a refused name comes back beside the
// field, as typed.
func (h *handler) renameKey(c echo.Context) error {
	id, name := c.Param("id"), c.FormValue("name")
	k, err := h.store.RenameKey(c.Request().Context(), h.actor(c), id, name)
	var se *store.Error
	if errors.As(err, &se) && se.Field == "name" {
		v, err := h.keyDetails(c, id)
		if err != nil {
			return err
		}
		v.Name, v.NameError = name, se.Message
		return render(c, http.StatusUnprocessableEntity, views.KeyDetailsPage(h.page(c, v.Key.Name, "keys"), v), nil)
	}
	if err != nil {
		return err
	}
	return h.keyChanged(c, k, "Key renamed to “"+k.Name+"”.")
}
