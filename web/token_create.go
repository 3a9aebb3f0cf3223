package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
)

// createToken makes an access token for the user and shows it once.
func (h *handler) createToken(c echo.Context) error {
	values, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	f := views.TokenForm{Name: values.Get("name"), Rights: values["rights"], OrgID: strings.TrimSpace(values.Get("org")),
		ExpiresAt: strings.TrimSpace(values.Get("expires_at"))}
	in := store.NewToken{Name: f.Name, OrgID: f.OrgID}
	for _, r := range f.Rights {
		in.Rights = append(in.Rights, store.Right(r))
	}
	if f.ExpiresAt != "" {
		at, err := time.Parse(time.DateOnly, f.ExpiresAt)
		if err != nil {
			f.Errors.Add("expires", "Enter the date as YYYY-MM-DD.")
			return h.profilePage(c, http.StatusUnprocessableEntity, views.Profile{TokenForm: f})
		}
		in.ExpiresAt = at
	}
	me, _ := currentUser(c)
	_, token, err := h.store.CreateToken(c.Request().Context(), h.actor(c), me.ID, in)
	if err != nil {
		if err := f.Errors.Take(err); err != nil {
			return err
		}
		return h.profilePage(c, http.StatusUnprocessableEntity, views.Profile{TokenForm: f})
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return h.profilePage(c, http.StatusCreated, views.Profile{NewToken: token})
}
