package web

import (
	"errors"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
	"github.com/keydesk/keydesk/views/urls"
)

func (h *handler) showProfilePage(c echo.Context) error {
	return h.profilePage(c, http.StatusOK, views.Profile{})
}

// profilePage shows the profile with v's forms; it reads the notice
// settings unless v brings them back as typed, and the calendar's state.
func (h *handler) profilePage(c echo.Context, status int, v views.Profile) error {
	me, _ := currentUser(c)
	ctx := c.Request().Context()
	if !v.NoticeErrors.Any() {
		n, err := h.store.NoticeSettingsOf(ctx, me.ID)
		if err != nil {
			return err
		}
		v.Notices = n
	}
	var err error
	if v.CalendarSince, v.CalendarOn, err = h.store.CalendarSince(ctx, me.ID); err != nil {
		return err
	}
	return render(c, status, views.ProfilePage(h.page(c, "Your profile", "profile"), v), nil)
}

// saveNotices sets the user's email address and the notices they want:
// the kinds ticked; the others are opted out of.
func (h *handler) saveNotices(c echo.Context) error {
	values, _ := c.FormParams()
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

// changePassword changes the user's own password, then starts a fresh
// session here: every other session of theirs has ended.
func (h *handler) changePassword(c echo.Context) error {
	me, _ := currentUser(c)
	values, _ := c.FormParams()
	f := form.ParsePasswordForm(values)
	status := http.StatusUnprocessableEntity
	if f.Validate(me.Username) {
		u, err := h.store.ChangePassword(c.Request().Context(), h.actor(c), me.ID, f.Current, f.Password)
		var tooMany *store.TooManyFailures
		switch {
		case err == nil:
			h.startSession(c, u)
			h.addFlash(c, false, "Your password was changed. Your other sessions have ended.")
			return c.Redirect(http.StatusSeeOther, urls.Profile)
		case errors.As(err, &tooMany):
			status = http.StatusTooManyRequests
			f.Errors.Add("current", h.tooManyFailures(c, tooMany.Wait))
		default:
			if err := f.Errors.Take(err); err != nil {
				return err
			}
		}
	}
	return h.profilePage(c, status, views.Profile{Password: f})
}
