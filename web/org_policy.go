package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/urls"
)

// setOrgPolicy sets an organization's own policy: an absent checkbox is
// off, an empty number no limit.
func (h *handler) setOrgPolicy(c echo.Context) error {
	values, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	v := views.OrgDetails{Policy: views.ParsePolicyForm(values)}
	if p, ok := v.Policy.Validate(); ok {
		o, err := h.store.SetOrgPolicy(c.Request().Context(), h.actor(c), c.Param("id"), p)
		if err == nil {
			msg := "Policy of " + o.Path + " saved."
			if p.DeleteAfterDays > 0 {
				n, err := h.store.RetiredKeys(c.Request().Context(), scope(c), o.ID)
				if err != nil {
					return err
				}
				if n > 0 {
					msg += " " + views.RetiredWarning(n)
				}
			}
			h.addFlash(c, false, msg)
			return c.Redirect(http.StatusSeeOther, urls.Org(o.ID))
		}
		if err := v.Policy.Errors.Take(err); err != nil {
			return err
		}
	}
	return h.orgPage(c, http.StatusUnprocessableEntity, v)
}
