package web

import (
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
)

// setKeyRateLimit changes a key's rate limit; a refused value comes back
// beside its field, as typed.
func (h *handler) setKeyRateLimit(c echo.Context) error {
	id := c.Param("id")
	typedCap, typedFreq := strings.TrimSpace(c.FormValue("capacity")), strings.TrimSpace(c.FormValue("frequency"))
	var errs form.Errors
	capacity, err := strconv.Atoi(typedCap)
	if err != nil {
		errs.Add("capacity", "Enter a whole number of requests.")
	}
	frequency, err := strconv.Atoi(typedFreq)
	if err != nil {
		errs.Add("frequency", "Enter a whole number of seconds.")
	}
	if !errs.Any() {
		k, err := h.store.SetKeyRateLimit(c.Request().Context(), h.actor(c), id, capacity, frequency)
		if err == nil {
			return h.keyChanged(c, k, "Key “"+k.Name+"” now allows "+typedCap+" requests per "+typedFreq+" seconds.")
		}
		if err := errs.Take(err); err != nil {
			return err
		}
	}
	return h.keyFormError(c, id, errs, func(v *views.KeyDetails) { v.Capacity, v.Frequency = typedCap, typedFreq })
}
