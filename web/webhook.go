package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/jobs"
	"github.com/keydesk/keydesk/notify"
	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/urls"
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

func (h *handler) showWebhookPage(c echo.Context) error {
	w, log, err := h.store.Webhook(c.Request().Context(), scope(c), c.Param("id"), deliveryLogLen)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.WebhookPage(h.page(c, w.URL, "settings"), views.WebhookDetails{Hook: w, Log: log}), nil)
}

// testWebhook sends a test event to the webhook at once, and says how it
// went.
func (h *handler) testWebhook(c echo.Context) error {
	msg, err := h.store.SendTestEvent(c.Request().Context(), h.actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	h.deliverNow(c, msg, "Test event")
	return c.Redirect(http.StatusSeeOther, urls.Webhook(c.Param("id")))
}

// sendAgain sends one of the webhook's deliveries again, at once.
func (h *handler) sendAgain(c echo.Context) error {
	if err := h.store.SendAgain(c.Request().Context(), h.actor(c), c.Param("id"), c.Param("msg")); err != nil {
		return err
	}
	h.deliverNow(c, c.Param("msg"), "Delivery")
	return c.Redirect(http.StatusSeeOther, urls.Webhook(c.Param("id")))
}

// deliverNow tries a queued delivery while the person waits, and leaves a
// message saying how it went; without a sender it is left to the job.
func (h *handler) deliverNow(c echo.Context, msgID, what string) {
	if h.cfg.Jobs.Poster == nil {
		h.addFlash(c, false, what+" queued: the webhooks job sends it within a minute.")
		return
	}
	// The person's request may end; the delivery is recorded regardless.
	ctx := context.WithoutCancel(c.Request().Context())
	d, ok, err := jobs.DeliverNow(ctx, h.store, h.cfg.Jobs, msgID)
	switch {
	case err != nil:
		h.log.Error("webhook delivery", "msg", msgID, "err", err)
		h.addFlash(c, true, what+" queued; it could not be sent at once, and will be within a minute.")
	case !ok:
		h.addFlash(c, false, what+" queued: another process is sending it.")
	case d.State == store.DeliveryDelivered:
		h.addFlash(c, false, what+" delivered: the receiver answered HTTP "+strconv.Itoa(d.LastStatus)+".")
	default:
		h.addFlash(c, true, what+" not delivered: "+d.LastError+". It will be tried again at "+d.NextTry.UTC().Format("15:04 UTC")+".")
	}
}

func (h *handler) deleteWebhook(c echo.Context) error {
	w, err := h.store.DeleteWebhook(c.Request().Context(), h.actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	h.addFlash(c, false, "Webhook to "+w.URL+" deleted.")
	return c.Redirect(http.StatusSeeOther, urls.Webhooks)
}
