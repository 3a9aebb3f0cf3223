package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
	"github.com/keydesk/keydesk/views/urls"
)

// resetPassword sets another user's password.
func (h *handler) resetPassword(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := h.store.User(ctx, scope(c), id)
	if err != nil {
		return err
	}
	values, _ := c.FormParams()
	f := form.ParsePasswordForm(values)
	if f.Validate(u.Username) {
		_, err = h.store.ResetPassword(ctx, h.actor(c), id, f.Password)
		if err == nil {
			h.addFlash(c, false, "The password of “"+u.Username+"” was reset; their sessions have ended.")
			return c.Redirect(http.StatusSeeOther, urls.User(id))
		}
		if err := f.Errors.Take(err); err != nil {
			return err
		}
	}
	return h.userPage(c, http.StatusUnprocessableEntity, views.UserDetails{Password: f})
}
