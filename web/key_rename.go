package web

import (
	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
)

// renameKey gives a key a new name; a refused name comes back beside the
// field, as typed.
func (h *handler) renameKey(c echo.Context) error {
	id, name := c.Param("id"), c.FormValue("name")
	k, err := h.store.RenameKey(c.Request().Context(), h.actor(c), id, name)
	if err == nil {
		return h.keyChanged(c, k, "Key renamed to “"+k.Name+"”.")
	}
	var errs form.Errors
	if err := errs.Take(err); err != nil {
		return err
	}
	return h.keyFormError(c, id, errs, func(v *views.KeyDetails) { v.Name = name })
}
