package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
)

// isHTMX reports whether htmx asked for a fragment. Boosted requests and
// history restores want the whole page.
func isHTMX(c echo.Context) bool {
	hd := c.Request().Header
	return hd.Get("HX-Request") == "true" && hd.Get("HX-Boosted") == "" && hd.Get("HX-History-Restore-Request") == ""
}

// render writes the full page, or the fragment when htmx asks for one and
// there is one. It renders into a buffer so that a failure cannot leave half
// a page behind a success status.
func render(c echo.Context, status int, page, fragment templ.Component) error {
	comp := page
	if fragment != nil && isHTMX(c) {
		comp = fragment
	}
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// page returns what every page needs: the user, the CSRF token, and the
// flash messages (which it consumes).
func (h *handler) page(c echo.Context, title, section string) views.Page {
	p := views.Page{Title: title, Section: section, Now: h.now().UTC()}
	if u, ok := currentUser(c); ok {
		p.User = u
	}
	if token, ok := c.Get("csrf").(string); ok {
		p.CSRF = maskToken(token) // new in every page; see csrf.go
	}
	p.Flashes = h.popFlashes(c)
	if p.Can(store.RightKeysView, store.RightKeysRead) {
		soon, err := h.store.ExpiringSoon(c.Request().Context(), scope(c))
		if err != nil {
			h.log.Warn("keys expiring soon", "err", err)
		}
		p.Soon = soon
	}
	return p
}

// localPath returns p if it is a path on this site, and fallback otherwise,
// so that a redirect target from a form or query cannot leave the console.
func localPath(p, fallback string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, `/\`) {
		return fallback
	}
	u, err := url.Parse(p)
	if err != nil || u.IsAbs() || u.Host != "" {
		return fallback
	}
	return p
}

// redirectBack answers a form post by sending the browser to the page it
// came from (the form's "return" field), or to fallback.
func redirectBack(c echo.Context, fallback string) error {
	return c.Redirect(http.StatusSeeOther, localPath(c.FormValue("return"), fallback))
}

// setAddress tells htmx the address of the list it just got, so that the
// view can be bookmarked and reloaded. Typing in the filter form replaces
// the address; sorting and paging add to the history.
func setAddress(c echo.Context, filterForm, url string) {
	if !isHTMX(c) {
		return
	}
	header := "HX-Push-Url"
	if c.Request().Header.Get("HX-Trigger") == filterForm {
		header = "HX-Replace-Url"
	}
	c.Response().Header().Set(header, url)
}
