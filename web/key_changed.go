package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/urls"
)

// keyChanged answers a lifecycle action on one key: for htmx, the key's
// updated row and the message; otherwise the message and a redirect back.
func (h *handler) keyChanged(c echo.Context, k store.Key, msg string) error {
	if isHTMX(c) {
		p := h.page(c, "API keys", "keys")
		p.Flashes = append(p.Flashes, views.Flash{Message: msg})
		returnTo := localPath(c.FormValue("return"), urls.Keys)
		orgs, err := h.store.Orgs(c.Request().Context(), scope(c))
		if err != nil {
			return err
		}
		// The row keeps the list's columns: an Organization column when
		// the user sees more than one.
		v := views.KeyList{Orgs: orgs}
		spark, err := h.store.Sparklines(c.Request().Context(), []store.Key{k}, store.SparklineHours)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, nil, views.KeyChangedFragment(p, k, returnTo, v.OrgPath(k), spark[k.ID]))
	}
	h.addFlash(c, false, msg)
	return redirectBack(c, urls.Key(k.ID))
}
