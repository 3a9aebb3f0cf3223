package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
	"github.com/keydesk/keydesk/views/urls"
)

func (h *handler) showProfilePage(c echo.Context) error {
	return h.profilePage(c, http.StatusOK, views.Profile{})
}

// defaultTokenDays is when a new access token expires unless one chooses.
const defaultTokenDays = 90

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
	v.MailOff = h.cfg.Jobs.Mailer == nil
	var err error
	if v.CalendarSince, v.CalendarOn, err = h.store.CalendarSince(ctx, me.ID); err != nil {
		return err
	}
	if v.Tokens, err = h.store.Tokens(ctx, scope(c), me.ID); err != nil {
		return err
	}
	if v.Orgs, err = h.store.Orgs(ctx, scope(c)); err != nil {
		return err
	}
	if v.TokenForm.ExpiresAt == "" && !v.TokenForm.Errors.Any() {
		v.TokenForm = views.TokenForm{ExpiresAt: h.now().UTC().AddDate(0, 0, defaultTokenDays).Format(time.DateOnly),
			Rights: []string{string(store.RightKeysView), string(store.RightKeysRead)}}
	}
	return render(c, status, views.ProfilePage(h.page(c, "Your profile", "profile"), v), nil)
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
