package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
)

func (h *handler) showOrgPage(c echo.Context) error {
	return h.orgPage(c, http.StatusOK, views.OrgDetails{})
}

// orgPage shows the organization named in the address. A form of v that
// carries no errors is filled from what is saved, so that a refusal of one
// form leaves the other as it is.
func (h *handler) orgPage(c echo.Context, status int, v views.OrgDetails) error {
	tree, err := h.store.Orgs(c.Request().Context(), scope(c))
	if err != nil {
		return err
	}
	v.Tree = tree
	found := false
	for _, o := range tree {
		if o.ID == c.Param("id") {
			v.Org, found = o, true
		}
	}
	if !found {
		return store.Errorf(store.ENOTFOUND, "", "There is no such organization. It may have been deleted.")
	}
	// The tree is for the parent menu; the page counts this one's keys and users.
	if v.Org, err = h.store.Org(c.Request().Context(), scope(c), v.Org.ID); err != nil {
		return err
	}
	if v.Form.Errors == nil {
		v.Form = views.OrgForm{Name: v.Org.Name, ParentID: v.Org.ParentID}
	}
	if v.Policy.Errors == nil {
		v.Policy = views.PolicyFormOf(v.Org.Policy)
	}
	return render(c, status, views.OrgPage(h.page(c, v.Org.Name, "orgs"), v), nil)
}
