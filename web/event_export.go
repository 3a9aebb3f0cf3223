package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views/form"
)

var eventCSVHeader = []string{"id", "at", "actor", "action", "target_type", "target_id", "target_name",
	"changes", "details", "bulk_id", "client_addr", "user_agent"}

// exportEvents streams the events the page's filters select, newest first.
func (h *handler) exportEvents(c echo.Context) error {
	params, filter, perr := form.ParseEventListParams(c.QueryParams())
	if perr != nil {
		return echo.NewHTTPError(http.StatusBadRequest, perr.Message)
	}
	out, err := newCSVStream(c, "events", h.now().UTC(), eventCSVHeader)
	if err != nil {
		return err
	}
	sc := scope(c) // the reading goroutine gets values, not the request's context
	each := func(ctx context.Context, fn func(store.Event) error) (int, error) {
		return h.store.EachEvent(ctx, sc, filter, fn)
	}
	n, err := readAhead(c.Request().Context(), each, func(e store.Event) error {
		return out.write(strconv.FormatInt(e.ID, 10), csvTime(e.At), e.ActorUsername, e.Action, e.TargetType, e.TargetID,
			e.TargetName, e.ChangesJSON(), e.DetailsJSON(), e.BulkID, e.ClientAddr, e.UserAgent)
	})
	if err != nil {
		return err
	}
	if err := out.close(); err != nil {
		return err
	}
	return h.store.RecordEvent(c.Request().Context(), h.actor(c), store.ActionEventsExported, store.TargetEvents, "Audit log",
		map[string]any{"query": params.Values().Encode(), "rows": n})
}
