package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
)

// showKeyNewPage shows the New API key form, prefilled from a key when
// copying one (?copy=ID).
func (h *handler) showKeyNewPage(c echo.Context) error {
	ctx := c.Request().Context()
	// A new key's secret takes this page's place (the form posts through
	// htmx), so no cache, back-forward cache included, may keep the page.
	c.Response().Header().Set("Cache-Control", "no-store")
	v, err := h.keyNew(c, form.NewKeyForm())
	if err != nil {
		return err
	}
	// A new key starts with its organization's schedule: the user's own,
	// the first the form offers.
	me, _ := currentUser(c)
	for _, o := range v.Orgs {
		if o.ID == me.OrgID {
			v.Form.RotateEvery = form.DaysText(o.Effective.RotateEveryDays)
			break
		}
	}
	if id := c.QueryParam("copy"); id != "" {
		k, err := h.store.Key(ctx, scope(c), id)
		if err != nil {
			return err
		}
		name, err := h.store.NextCopyName(ctx, k)
		if err != nil {
			return err
		}
		v.Form = form.CopyKeyForm(k, name, h.now())
		v.CopyOfName = k.Name
	}
	return render(c, http.StatusOK, views.KeyNewPage(h.page(c, v.Title(), "keys"), v), nil)
}

// keyNew is the New API key form's view: f with the permission catalog and
// the organizations the user may put a key in.
func (h *handler) keyNew(c echo.Context, f form.KeyForm) (views.KeyNew, error) {
	ctx := c.Request().Context()
	catalog, err := h.store.Permissions(ctx)
	if err != nil {
		return views.KeyNew{}, err
	}
	orgs, err := h.store.Orgs(ctx, scope(c))
	if err != nil {
		return views.KeyNew{}, err
	}
	return views.KeyNew{Form: f, Catalog: catalog, Orgs: orgs}, nil
}
