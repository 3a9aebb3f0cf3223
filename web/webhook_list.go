package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views"
)

// deliveryLogLen is how many deliveries a webhook's page lists.
const deliveryLogLen = 100

func (h *handler) showWebhookListPage(c echo.Context) error {
	return h.webhookListPage(c, http.StatusOK, views.WebhookList{Form: views.WebhookForm{Events: views.DefaultWebhookEvents}})
}

func (h *handler) webhookListPage(c echo.Context, status int, v views.WebhookList) error {
	ctx := c.Request().Context()
	var err error
	if v.Hooks, err = h.store.Webhooks(ctx, scope(c)); err != nil {
		return err
	}
	if v.Orgs, err = h.store.Orgs(ctx, scope(c)); err != nil {
		return err
	}
	return render(c, status, views.WebhookListPage(h.page(c, "Webhooks", "settings"), v), nil)
}
