package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views"
)

// showKeyTestPage shows the Test key form.
func (h *handler) showKeyTestPage(c echo.Context) error {
	catalog, err := h.store.Permissions(c.Request().Context())
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.KeyTestPage(h.page(c, "Test a key", "keys"), views.KeyTest{Catalog: catalog}), nil)
}

// checkKey answers the Test key form as a service would be answered,
// counting nothing. The key is posted, never put in a URL, and never sent
// back: the field comes back empty.
func (h *handler) checkKey(c echo.Context) error {
	ctx := c.Request().Context()
	catalog, err := h.store.Permissions(ctx)
	if err != nil {
		return err
	}
	v := views.KeyTest{Catalog: catalog, Permission: c.FormValue("permission")}
	secret := c.FormValue("key")
	if secret == "" {
		v.Error = "Paste the key to test."
		return render(c, http.StatusUnprocessableEntity, views.KeyTestPage(h.page(c, "Test a key", "keys"), v), nil)
	}
	if v.Result, err = h.store.CheckKey(ctx, scope(c), secret, v.Permission, ""); err != nil {
		return err
	}
	v.Asked = true
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusOK, views.KeyTestPage(h.page(c, "Test a key", "keys"), v), nil)
}
