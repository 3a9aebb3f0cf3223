package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
)

// createKey creates a key and answers with its secret, the one time it is
// shown. On a mistake the form comes back as typed, with the messages.
func (h *handler) createKey(c echo.Context) error {
	ctx := c.Request().Context()
	values, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	f := form.ParseKeyForm(values)
	if values.Has("expires_in") {
		return h.pickKeyExpiry(c, f, values.Get("expires_in"))
	}
	in, ok := f.Validate(h.now())
	if ok {
		k, secret, err := h.store.CreateKey(ctx, h.actor(c), in)
		if err == nil {
			// The page holds the secret: no cache may keep it.
			c.Response().Header().Set("Cache-Control", "no-store")
			p := h.page(c, "API key created", "keys")
			// Said on the list that Done leads to.
			h.addFlash(c, false, "Key “"+k.Name+"” created.")
			return render(c, http.StatusCreated, views.KeyCreatedPage(p, k, secret), nil)
		}
		if err := f.Errors.Take(err); err != nil {
			return err
		}
	}
	return h.showKeyForm(c, http.StatusUnprocessableEntity, f)
}

// pickKeyExpiry answers a quick pick made without script: the form comes
// back as it was, expiring that many days from now.
func (h *handler) pickKeyExpiry(c echo.Context, f form.KeyForm, days string) error {
	at, msg := form.ParseExpiresIn(days, h.now())
	if msg != "" {
		f.Errors.Add("expires_at", msg)
		return h.showKeyForm(c, http.StatusUnprocessableEntity, f)
	}
	f.NeverExpires, f.ExpiresAt = false, form.FormatExpiry(at)
	return h.showKeyForm(c, http.StatusOK, f)
}

// showKeyForm shows the New API key form as it was sent.
func (h *handler) showKeyForm(c echo.Context, status int, f form.KeyForm) error {
	ctx := c.Request().Context()
	c.Response().Header().Set("Cache-Control", "no-store") // as on GET /keys/new
	v, err := h.keyNew(c, f)
	if err != nil {
		return err
	}
	if f.CopyOf != "" {
		if k, err := h.store.Key(ctx, scope(c), f.CopyOf); err == nil {
			v.CopyOfName = k.Name
		}
	}
	return render(c, status, views.KeyNewPage(h.page(c, v.Title(), "keys"), v), nil)
}
