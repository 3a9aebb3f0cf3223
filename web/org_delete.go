package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/urls"
)

// deleteOrg removes an empty organization. A refusal (it still holds
// something) comes back on its page, beside the Delete action.
func (h *handler) deleteOrg(c echo.Context) error {
	o, err := h.store.DeleteOrg(c.Request().Context(), h.actor(c), c.Param("id"))
	var se *store.Error
	if errors.As(err, &se) && se.Code == store.ECONFLICT {
		return h.orgPage(c, http.StatusConflict, views.OrgDetails{DeleteError: se.Message})
	}
	if err != nil {
		return err
	}
	h.addFlash(c, false, "Organization "+o.Path+" deleted.")
	return c.Redirect(http.StatusSeeOther, urls.Orgs)
}
