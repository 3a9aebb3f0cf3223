package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/notify"
	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
)

// createWebhook adds a webhook and shows its signing secret, once.
func (h *handler) createWebhook(c echo.Context) error {
	values, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	v := views.WebhookList{Form: views.ParseWebhookForm(values)}
	if msg := store.WebhookURLProblem(v.Form.URL); msg == "" {
		if msg := notify.TargetProblem(v.Form.URL, h.cfg.AllowPrivateWebhooks); msg != "" {
			v.Form.Errors.Add("url", msg)
			return h.webhookListPage(c, http.StatusUnprocessableEntity, v)
		}
	}
	w, secret, err := h.store.CreateWebhook(c.Request().Context(), h.actor(c), store.NewWebhook{URL: v.Form.URL, OrgID: v.Form.OrgID, Events: v.Form.Events})
	if err != nil {
		if err := v.Form.Errors.Take(err); err != nil {
			return err
		}
		return h.webhookListPage(c, http.StatusUnprocessableEntity, v)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusCreated, views.WebhookCreatedPage(h.page(c, "Webhook added", "settings"), w, secret), nil)
}
