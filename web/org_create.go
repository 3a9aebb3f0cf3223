package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/urls"
)

func (h *handler) createOrg(c echo.Context) error {
	values, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	f := views.ParseOrgForm(values)
	if f.Validate() {
		o, err := h.store.CreateOrg(c.Request().Context(), h.actor(c), f.Name, f.ParentID)
		if err == nil {
			h.addFlash(c, false, "Organization "+o.Name+" created.")
			return c.Redirect(http.StatusSeeOther, urls.Orgs)
		}
		if err := takeOrgError(&f, err); err != nil {
			return err
		}
	}
	return h.orgListPage(c, http.StatusUnprocessableEntity, f)
}

// takeOrgError puts a store refusal beside its field of an organization
// form. The store names a parent it cannot find "org", the field of keys
// and users; here that field is parent_id.
func takeOrgError(f *views.OrgForm, err error) error {
	var se *store.Error
	if errors.As(err, &se) && se.Field == "org" {
		moved := *se
		moved.Field = "parent_id"
		err = &moved
	}
	return f.Errors.Take(err)
}
