package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views"
)

func (h *handler) showUserListPage(c echo.Context) error {
	v := views.UserList{Search: strings.TrimSpace(c.QueryParam("q"))}
	var err error
	if v.Users, err = h.store.Users(c.Request().Context(), scope(c), v.Search); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.UserListPage(h.page(c, "Users", "users"), v), nil)
}
