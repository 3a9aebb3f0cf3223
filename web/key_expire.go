package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
)

// expireKey sets when a key expires: now (now=1), in a number of days from
// now (expires_in, a quick pick), never (never_expires=on, or an empty
// expires_at), or at the date in expires_at (and expires_time).
func (h *handler) expireKey(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if c.FormValue("now") == "1" {
		k, err := h.store.ExpireKey(ctx, h.actor(c), id)
		if err != nil {
			return err
		}
		return h.keyChanged(c, k, "Key “"+k.Name+"” expired.")
	}
	values, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	typed := form.ExpiryValue(values)
	// The details form says "never" with its checkbox; elsewhere an empty
	// date means never.
	never := c.FormValue("never_expires") == "on" || (typed == "" && c.FormValue("expiry_form") == "")
	var (
		at   time.Time
		errs form.Errors
	)
	if values.Has("expires_in") {
		var msg string
		if at, msg = form.ParseExpiresIn(values.Get("expires_in"), h.now()); msg != "" {
			errs.Add("expires_at", msg)
		}
	} else if !never {
		var msg string
		if at, msg = form.ParseExpiry(typed, h.now()); msg != "" {
			errs.Add("expires_at", msg)
		}
	}
	if !errs.Any() {
		k, err := h.store.SetKeyExpiry(ctx, h.actor(c), id, at)
		if err == nil {
			msg := "Key “" + k.Name + "” now never expires."
			if !k.ExpiresAt.IsZero() {
				msg = "Key “" + k.Name + "” now expires " + k.ExpiresAt.Format("2006-01-02 15:04 UTC") + "."
			}
			return h.keyChanged(c, k, msg)
		}
		if err := errs.Take(err); err != nil {
			return err
		}
	}
	return h.keyFormError(c, id, errs, func(v *views.KeyDetails) { v.ExpiresAt, v.NeverExpires = typed, false })
}
