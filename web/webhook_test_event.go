package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/jobs"
	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views/urls"
)

// testWebhook sends a test event to the webhook at once, and says how it
// went.
func (h *handler) testWebhook(c echo.Context) error {
	msg, err := h.store.QueueTestEvent(c.Request().Context(), h.actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	h.deliverNow(c, msg, "Test event")
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
