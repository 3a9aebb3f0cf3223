package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/urls"
)

// updateOrg renames an organization and moves it under another.
func (h *handler) updateOrg(c echo.Context) error {
	values, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	v := views.OrgDetails{Form: views.ParseOrgForm(values)}
	if v.Form.Validate() {
		o, err := h.store.UpdateOrg(c.Request().Context(), h.actor(c), c.Param("id"), v.Form.Name, v.Form.ParentID)
		if err == nil {
			h.addFlash(c, false, "Organization "+o.Path+" saved.")
			return c.Redirect(http.StatusSeeOther, urls.Org(o.ID))
		}
		if err := takeOrgError(&v.Form, err); err != nil {
			return err
		}
	}
	return h.orgPage(c, http.StatusUnprocessableEntity, v)
}
