package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
)

// rotateKey gives a key a new secret and shows it, the one time it is
// shown, exactly as creating a key does (201, uncached). A refused grace
// period comes back beside its field, as typed; none typed is the
// organization's.
func (h *handler) rotateKey(c echo.Context) error {
	id := c.Param("id")
	typed := strings.TrimSpace(c.FormValue("grace_days"))
	var errs form.Errors
	days := form.ParseGraceDays(typed, &errs)
	if !errs.Any() {
		r, err := h.store.RotateKey(c.Request().Context(), h.actor(c), id, days)
		if err == nil {
			// The page holds the secret: no cache may keep it.
			c.Response().Header().Set("Cache-Control", "no-store")
			p := h.page(c, "Secret rotated", "keys")
			// Said on the page that Done leads to.
			h.addFlash(c, false, "Key “"+r.Key.Name+"” has a new secret.")
			return render(c, http.StatusCreated, views.KeyRotatedPage(p, r.Key, r.Secret, r.Replaced), nil)
		}
		if err := errs.Take(err); err != nil {
			return err
		}
	}
	return h.keyFormError(c, id, errs, func(v *views.KeyDetails) { v.GraceDays = typed })
}
