package web

import (
	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
)

// setKeySchedule sets how often a key is rotated; empty is never.
func (h *handler) setKeySchedule(c echo.Context) error {
	id := c.Param("id")
	typed := c.FormValue("rotate_every_days")
	var errs form.Errors
	days := form.ParseRotateEvery(typed, &errs)
	if !errs.Any() {
		k, err := h.store.SetKeySchedule(c.Request().Context(), h.actor(c), id, days)
		if err == nil {
			msg := "Key “" + k.Name + "” is not rotated on a schedule."
			if days > 0 {
				msg = "Key “" + k.Name + "” is rotated every " + store.Thousands(days) + " days; next on " + k.RotateDueAt.Format("2006-01-02 15:04 UTC") + "."
			}
			return h.keyChanged(c, k, msg)
		}
		if err := errs.Take(err); err != nil {
			return err
		}
	}
	return h.keyFormError(c, id, errs, func(v *views.KeyDetails) { v.RotateEvery = typed })
}
