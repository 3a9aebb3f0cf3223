package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
)

func (h *handler) showUserPage(c echo.Context) error {
	return h.userPage(c, http.StatusOK, views.UserDetails{})
}

// userPage shows a user's page, with any form error v carries.
func (h *handler) userPage(c echo.Context, status int, v views.UserDetails) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if v.User, err = h.store.User(ctx, scope(c), id); err != nil {
		return err
	}
	me, _ := currentUser(c)
	if v.Roles, err = h.grantableRoles(c); err != nil {
		return err
	}
	if v.Orgs, err = h.store.Orgs(ctx, scope(c)); err != nil {
		return err
	}
	v.Self = me.ID == id
	v.CanManage = !v.Self && me.Can(v.User.Rights...)
	if v.Tokens, err = h.store.Tokens(ctx, scope(c), id); err != nil {
		return err
	}
	return render(c, status, views.UserPage(h.page(c, v.User.Username, "users"), v), nil)
}

// userID reads the user id in the URL.
func userID(c echo.Context) (int64, error) {
	id, ok := form.ParseID(c.Param("id"))
	if !ok {
		return 0, echo.NewHTTPError(http.StatusNotFound)
	}
	return id, nil
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
