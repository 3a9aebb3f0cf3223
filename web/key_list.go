package web

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
)

// keysPerPage is the page size of the key list.
const keysPerPage = 50

func (h *handler) showKeyListPage(c echo.Context) error {
	ctx := c.Request().Context()
	params, perms, orgs, err := h.keyListParams(c)
	if err != nil {
		return err
	}
	if params.Toggled && !isHTMX(c) {
		// A status button pressed without script: show the list at its own URL.
		return c.Redirect(http.StatusSeeOther, params.PageURL())
	}
	page, err := h.store.Keys(ctx, scope(c), store.KeyQuery{
		KeyFilter: params.Filter(),
		Sort:      params.Sort,
		Desc:      params.Desc,
		After:     params.After,
		Before:    params.Before,
		Last:      params.Last,
		Limit:     keysPerPage,
	})
	if err != nil {
		if store.ErrorCode(err) == store.EINVALID {
			return echo.NewHTTPError(http.StatusBadRequest, err.(*store.Error).Message)
		}
		return err
	}
	if len(page.Keys) == 0 && page.Total > 0 && (params.After != "" || params.Before != "") {
		// The keys of this page are gone (deleted from it, say): show the
		// first page rather than an empty one with no way back.
		params.After, params.Before, params.Last, params.At = "", "", false, 0
		if page, err = h.store.Keys(ctx, scope(c), store.KeyQuery{KeyFilter: params.Filter(), Sort: params.Sort, Desc: params.Desc, Limit: keysPerPage}); err != nil {
			return err
		}
	}
	if id := c.QueryParam("highlight"); id != "" && !slices.ContainsFunc(page.Keys, func(k store.Key) bool { return k.ID == id }) {
		// A key just created may sort onto another page: show it on top.
		if k, err := h.store.Key(ctx, scope(c), id); err == nil {
			page.Keys = append([]store.Key{k}, page.Keys...)
		}
	}
	creators, err := h.store.KeyCreators(ctx, scope(c))
	if err != nil {
		return err
	}
	// Where the page starts, for "51–100 of 1,204": the first and last
	// pages know; the others were told by the link that led to them.
	from := params.At
	switch {
	case params.Last && page.More:
		from = 0 // the count stops short of the end
	case params.Last:
		from = max(page.Total-len(page.Keys)+1, 1)
	case params.After == "" && params.Before == "", page.Prev == "":
		from = 1 // the first page, or paged back to it
	}
	v := views.KeyList{Params: params, Page: page, From: from, PerPage: keysPerPage, Permissions: perms, Creators: creators,
		Highlight: c.QueryParam("highlight"), Orgs: orgs}
	if v.Sparklines, err = h.store.Sparklines(ctx, page.Keys, store.SparklineHours); err != nil {
		return err
	}
	setAddress(c, "key-filters", params.PageURL())
	p := h.page(c, "API keys", "keys")
	if v.Soon = p.Soon; params.Org != "" {
		if v.Soon, err = h.store.ExpiringSoonAt(ctx, scope(c), params.Org); err != nil {
			return err
		}
	}
	return render(c, http.StatusOK, views.KeyListPage(p, v), views.KeyListFragment(p, v))
}

// keyListParams reads the list's query parameters and checks the
// permission against the catalog, which it returns for the filter menu.
// It checks the organization against the user's part of the tree, which it
// returns too, the user's own organization first.
func (h *handler) keyListParams(c echo.Context) (form.KeyListParams, []store.Permission, []store.Org, error) {
	params, perr := form.ParseKeyListParams(c.QueryParams())
	if perr != nil {
		return params, nil, nil, echo.NewHTTPError(http.StatusBadRequest, perr.Message)
	}
	perms, err := h.store.Permissions(c.Request().Context())
	if err != nil {
		return params, nil, nil, err
	}
	if params.Permission != "" && !slices.ContainsFunc(perms, func(p store.Permission) bool { return p.Name == params.Permission }) {
		return params, nil, nil, echo.NewHTTPError(http.StatusBadRequest, "There is no permission \""+params.Permission+"\".")
	}
	orgs, err := h.store.Orgs(c.Request().Context(), scope(c))
	if err != nil {
		return params, nil, nil, err
	}
	if params.Org != "" && !slices.ContainsFunc(orgs, func(o store.Org) bool { return o.ID == params.Org }) {
		return params, nil, nil, echo.NewHTTPError(http.StatusBadRequest, "There is no such organization.")
	}
	return params, perms, orgs, nil
}
