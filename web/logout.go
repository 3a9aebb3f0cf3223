package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views/urls"
)

// logout ends this session and every other session of the user: cookies
// cannot be taken back, so the user's session version moves on.
func (h *handler) logout(c echo.Context) error {
	u, _ := currentUser(c)
	if err := h.store.EndSessions(c.Request().Context(), h.actor(c), u.ID); err != nil {
		return err
	}
	if sess, ok := session(c); ok {
		sess.Values = map[any]any{}
		sess.AddFlash("You are logged out.", flashOK)
		sess.Options = h.cookieOptions(c)
		h.saveSession(c, sess)
	}
	h.renewCSRF(c)
	return c.Redirect(http.StatusSeeOther, urls.Login)
}
