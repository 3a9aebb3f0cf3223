package web

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
)

var activityCSVHeader = []string{"key_id", "name", "org", "valid", "rate_limited", "refused", "total"}

// exportActivity downloads the verifications of every key of the user's
// organizations used over the period, busiest first.
func (h *handler) exportActivity(c echo.Context) error {
	period, a, err := h.activity(c)
	if err != nil {
		return err
	}
	out, err := newCSVStream(c, "activity-"+period.Name, h.now().UTC(), activityCSVHeader)
	if err != nil {
		return err
	}
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	for _, k := range a.Keys {
		if err := out.write(k.ID, k.Name, k.OrgPath, n(k.Counts.Valid()), n(k.Counts.RateLimited()), n(k.Counts.Refused()), n(k.Counts.Total())); err != nil {
			return err
		}
	}
	if err := out.close(); err != nil {
		return err
	}
	return h.store.RecordEvent(c.Request().Context(), h.actor(c), store.ActionActivityExported, "activity", "Activity",
		map[string]any{"period": period.Name, "rows": len(a.Keys)})
}
