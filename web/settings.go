package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
)

func (h *handler) showSettingsPage(c echo.Context) error {
	days, err := h.store.EventRetention(c.Request().Context())
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.SettingsPage(h.page(c, "Settings", "settings"), views.Settings{RetentionDays: strconv.Itoa(days)}), nil)
}

func (h *handler) saveSettings(c echo.Context) error {
	v := views.Settings{RetentionDays: strings.TrimSpace(c.FormValue("retention_days"))}
	days, err := strconv.Atoi(v.RetentionDays)
	if err != nil {
		v.Error = "Enter a whole number of days, or 0 to keep events for good."
		return render(c, http.StatusUnprocessableEntity, views.SettingsPage(h.page(c, "Settings", "settings"), v), nil)
	}
	err = h.store.SetEventRetention(c.Request().Context(), h.actor(c), days)
	var se *store.Error
	if errors.As(err, &se) && se.Field != "" {
		v.Error = se.Message
		return render(c, http.StatusUnprocessableEntity, views.SettingsPage(h.page(c, "Settings", "settings"), v), nil)
	}
	if err != nil {
		return err
	}
	h.addFlash(c, false, "Settings saved.")
	return c.Redirect(http.StatusSeeOther, "/settings")
}
