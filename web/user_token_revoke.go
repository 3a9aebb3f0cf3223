package web

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views/urls"
)

// revokeUserToken revokes one of a user's access tokens, for someone who
// manages users (the store checks they may manage this one).
func (h *handler) revokeUserToken(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	// The token must be this user's: an address names one user's token.
	tokens, err := h.store.Tokens(ctx, scope(c), id)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(tokens, func(t store.Token) bool { return t.ID == c.Param("token") }) {
		return store.Errorf(store.ENOTFOUND, "", "There is no such token. It may have been revoked.")
	}
	t, err := h.store.RevokeToken(ctx, h.actor(c), c.Param("token"))
	if err != nil {
		return err
	}
	h.addFlash(c, false, "The token “"+t.Name+"” of "+t.Username+" was revoked.")
	return c.Redirect(http.StatusSeeOther, urls.User(id))
}
