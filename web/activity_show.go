package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
)

// activity reads the verifications over the period asked for, the
// first offered when none is.
func (h *handler) activity(c echo.Context) (store.ActivityPeriod, store.Activity, error) {
	period := store.ActivityPeriods[0]
	if name := c.QueryParam("period"); name != "" {
		var ok bool
		if period, ok = store.ActivityPeriodNamed(name); !ok {
			return period, store.Activity{}, echo.NewHTTPError(http.StatusBadRequest, "There is no period "+strconv.Quote(name)+": choose "+periodNames()+".")
		}
	}
	a, err := h.store.Activity(c.Request().Context(), scope(c), period.Span)
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

// periodNames lists the offered periods' names, for a message.
func periodNames() string {
	names := make([]string, len(store.ActivityPeriods))
	for i, p := range store.ActivityPeriods {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}
