package web

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
)

// apiBulk is a bulk action's body: an action and the keys, by ids or by
// a filter of the list's (with, optionally, the number of keys it was
// expected to select: another number changes nothing).
type apiBulk struct {
	Action   string         `json:"action"`
	IDs      []string       `json:"ids"`
	Filter   *apiBulkFilter `json:"filter"`
	Expected int            `json:"expected"`
}

type apiBulkFilter struct {
	Q          string   `json:"q"`
	Status     []string `json:"status"`
	Permission string   `json:"permission"`
	Tenant     string   `json:"tenant"`
}

// apiBulkKeys applies one of the console's bulk actions (enable, disable,
// revoke, delete) to keys of the caller's organizations, in one
// transaction, each key its own event; it answers how many were selected,
// changed and skipped.
func (h *handler) apiBulkKeys(c echo.Context) error {
	var in apiBulk
	if ok, err := decodeAPIBody(c, &in); !ok {
		return err
	}
	action := store.KeyAction(in.Action)
	if !slices.Contains(store.BulkActions, action) {
		return apiBodyError(c, "action", `"action" is one of enable, disable, revoke and delete.`)
	}
	u, _ := apiCaller(c)
	if !u.Can(action.Right()) {
		return apiFail(c, store.Errorf(store.EFORBIDDEN, "", "Your token does not grant %s.", action.Right()))
	}
	if (in.Filter == nil) == (len(in.IDs) == 0) {
		return apiBodyError(c, "ids", `Name the keys by "ids", or by "filter", not both.`)
	}
	sel := store.KeySelection{IDs: in.IDs, Expected: in.Expected}
	if in.Filter != nil {
		f := store.KeyFilter{Search: in.Filter.Q, Permission: in.Filter.Permission, Org: in.Filter.Tenant}
		if f.Org == "*" {
			root, err := h.store.RootOrgID(c.Request().Context())
			if err != nil {
				return err
			}
			f.Org = root
		}
		for _, st := range in.Filter.Status {
			f.Statuses = append(f.Statuses, store.StatusFilter(st))
		}
		sel.Filter = &f
	}
	res, err := h.store.ChangeKeys(c.Request().Context(), apiActor(c), action, sel)
	if err != nil {
		return apiFail(c, err)
	}
	return c.JSON(http.StatusOK, map[string]int{"selected": res.Selected, "changed": res.Changed, "skipped": res.Skipped})
}
