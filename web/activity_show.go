package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
)

// defaultActivityPeriod is the Activity page's period unless one is asked.
const defaultActivityPeriod = "24h"

// activityPeriod reads the period asked for: one of store.ActivityPeriods,
// the default when none is.
func activityPeriod(c echo.Context) (string, error) {
	period := c.QueryParam("period")
	if period == "" {
		return defaultActivityPeriod, nil
	}
	if _, ok := store.ActivityPeriods[period]; !ok {
		return "", echo.NewHTTPError(http.StatusBadRequest, "The period is 24h, 7d or 30d.")
	}
	return period, nil
}

// showActivityPage shows the keys of the user's organizations used,
// refused and rate-limited most over a period.
func (h *handler) showActivityPage(c echo.Context) error {
	period, err := activityPeriod(c)
	if err != nil {
		return err
	}
	a, err := h.store.Activity(c.Request().Context(), scope(c), store.ActivityPeriods[period])
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ActivityPageView(h.page(c, "Activity", "keys"), views.ActivityPage{Period: period, Activity: a}), nil)
}
