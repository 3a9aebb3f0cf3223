package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views/urls"
)

func (h *handler) deleteWebhook(c echo.Context) error {
	w, err := h.store.DeleteWebhook(c.Request().Context(), h.actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	h.addFlash(c, false, "Webhook to "+store.WebhookURLShown(w.URL)+" deleted.")
	return c.Redirect(http.StatusSeeOther, urls.Webhooks)
}
