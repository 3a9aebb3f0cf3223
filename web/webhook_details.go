package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
)

func (h *handler) showWebhookPage(c echo.Context) error {
	w, log, err := h.store.Webhook(c.Request().Context(), scope(c), c.Param("id"), deliveryLogLen)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.WebhookPage(h.page(c, "Webhook to "+store.WebhookURLShown(w.URL), "settings"), views.WebhookDetails{Hook: w, Log: log}), nil)
}
