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
	// Every field's problem at once; the store checks again.
	f := &v.Form
	if msg := store.WebhookURLProblem(f.URL); msg != "" {
		f.Errors.Add("url", msg)
	} else if msg := notify.TargetProblem(f.URL, h.cfg.AllowPrivateWebhooks); msg != "" {
		f.Errors.Add("url", msg)
	}
	if msg := store.WebhookEventsProblem(f.Events); msg != "" {
		f.Errors.Add("events", msg)
	}
	if f.Errors.Any() {
		return h.webhookListPage(c, http.StatusUnprocessableEntity, v)
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
