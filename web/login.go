package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
)

func (h *handler) showLoginPage(c echo.Context) error {
	next := localPath(c.QueryParam("next"), "")
	if _, ok := currentUser(c); ok {
		return c.Redirect(http.StatusSeeOther, localPath(next, "/"))
	}
	return render(c, http.StatusOK, views.LoginPage(h.page(c, "Log in", ""), views.Login{Next: next}), nil)
}

func (h *handler) login(c echo.Context) error {
	v := views.Login{Username: c.FormValue("username"), Next: localPath(c.FormValue("next"), "")}
	u, err := h.store.Authenticate(c.Request().Context(), v.Username, c.FormValue("password"))
	if err != nil {
		if !errors.Is(err, store.ErrBadLogin) {
			return err
		}
		actor := h.actor(c)
		actor.Username = v.Username
		if err := h.store.RecordLogin(c.Request().Context(), actor, false); err != nil {
			return err
		}
		v.Error = store.ErrBadLogin.Message
		return render(c, http.StatusUnprocessableEntity, views.LoginPage(h.page(c, "Log in", ""), v), nil)
	}
	h.startSession(c, u)
	actor := h.actor(c)
	actor.UserID, actor.Username = u.ID, u.Username
	if err := h.store.RecordLogin(c.Request().Context(), actor, true); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, localPath(v.Next, "/"))
}
