package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views/urls"
)

// resendDelivery sends one of the webhook's deliveries again, at once.
func (h *handler) resendDelivery(c echo.Context) error {
	if err := h.store.QueueAgain(c.Request().Context(), h.actor(c), c.Param("id"), c.Param("msg")); err != nil {
		return err
	}
	h.deliverNow(c, c.Param("msg"), "Delivery")
	return c.Redirect(http.StatusSeeOther, urls.Webhook(c.Param("id")))
}
