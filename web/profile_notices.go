package web

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/urls"
)

// saveNotices sets the user's email address and the notices they want:
// the kinds ticked; the others are opted out of.
func (h *handler) saveNotices(c echo.Context) error {
	values, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	v := views.Profile{Notices: store.NoticeSettings{Email: values.Get("email")}}
	wanted := values["notices"]
	for _, kind := range store.NoticeKinds {
		if !slices.Contains(wanted, kind) {
			v.Notices.OptedOut = append(v.Notices.OptedOut, kind)
		}
	}
	if _, err := h.store.SetNoticeSettings(c.Request().Context(), h.actor(c), v.Notices); err != nil {
		if err := v.NoticeErrors.Take(err); err != nil {
			return err
		}
		return h.profilePage(c, http.StatusUnprocessableEntity, v)
	}
	h.addFlash(c, false, "Your notices were saved.")
	return c.Redirect(http.StatusSeeOther, urls.Profile)
}
