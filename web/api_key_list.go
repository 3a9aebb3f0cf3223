package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views/form"
)

// maxAPIPage is the most keys one answer of the API's list holds.
const maxAPIPage = 1000

// apiListKeys answers a page of the keys of the caller's organizations,
// with the console's filters (q, status, permission, tenant: an
// organization's id or "*", sort, dir) and cursor paging (limit, after;
// the answer's "next" is the cursor of the page after, null at the end).
func (h *handler) apiListKeys(c echo.Context) error {
	u, _ := apiCaller(c)
	ctx := c.Request().Context()
	root, err := h.store.RootOrgID(ctx)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	if tenant := q.Get("tenant"); tenant != "" {
		if tenant == "*" {
			tenant = root
		}
		q.Set("org", tenant)
	}
	params, perr := form.ParseKeyListParams(q)
	if perr != nil {
		return apiFail(c, perr)
	}
	limit := 50
	if l := q.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > maxAPIPage {
			return apiFail(c, store.Errorf(store.EINVALID, "limit", "The limit is a number from 1 to %d.", maxAPIPage))
		}
	}
	page, err := h.store.Keys(ctx, u.Scope(), store.KeyQuery{KeyFilter: params.Filter(), Sort: params.Sort, Desc: params.Desc,
		After: params.After, Limit: limit})
	if err != nil {
		return apiFail(c, err)
	}
	if err := h.store.FillRateLimits(ctx, page.Keys); err != nil {
		return err
	}
	data := make([]apiKey, len(page.Keys))
	now := h.now()
	for i, k := range page.Keys {
		data[i] = apiKeyOf(k, now, root)
	}
	var next *string
	if page.Next != "" {
		next = &page.Next
	}
	return c.JSON(http.StatusOK, map[string]any{"data": data, "next": next, "total": page.Total, "more": page.More})
}
