package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
)

func (h *handler) showOrgListPage(c echo.Context) error {
	u, _ := currentUser(c)
	return h.orgListPage(c, http.StatusOK, views.OrgForm{ParentID: u.OrgID})
}

// orgListPage shows the tree of the user's scope with the New
// organization form as f holds it.
func (h *handler) orgListPage(c echo.Context, status int, f views.OrgForm) error {
	orgs, err := h.store.OrgsCounted(c.Request().Context(), scope(c))
	if err != nil {
		return err
	}
	return render(c, status, views.OrgListPage(h.page(c, "Organizations", "orgs"), views.OrgList{Orgs: orgs, Form: f}), nil)
}

// requireAnyRight refuses a request from a user who holds none of rights:
// organizations are seen by those who manage them and by those who set
// their policy.
func (h *handler) requireAnyRight(rights ...store.Right) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u, _ := currentUser(c)
			for _, r := range rights {
				if u.Can(r) {
					return next(c)
				}
			}
			return h.denied(c)
		}
	}
}
