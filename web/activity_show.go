package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
)

// defaultActivityPeriod is the Activity page's period unless one is asked.
const defaultActivityPeriod = "24h"

// activity reads the verifications over the period asked for: one of
// store.ActivityPeriods, the default when none is.
func (h *handler) activity(c echo.Context) (string, store.Activity, error) {
	period := c.QueryParam("period")
	if period == "" {
		period = defaultActivityPeriod
	}
	d, ok := store.ActivityPeriods[period]
	if !ok {
		return "", store.Activity{}, echo.NewHTTPError(http.StatusBadRequest, "The period is 24h, 7d or 30d.")
	}
	a, err := h.store.Activity(c.Request().Context(), scope(c), d)
	return period, a, err
}

// showActivityPage shows the keys of the user's organizations used,
// refused and rate-limited most over a period.
func (h *handler) showActivityPage(c echo.Context) error {
	period, a, err := h.activity(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ActivityPageView(h.page(c, "Activity", "keys"), views.ActivityPage{Period: period, Activity: a}), nil)
}
