package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
	"github.com/keydesk/keydesk/views/form"
)

// eventsPerPage is the page size of the audit log.
const eventsPerPage = 50

func (h *handler) showEventListPage(c echo.Context) error {
	ctx := c.Request().Context()
	params, filter, perr := form.ParseEventListParams(c.QueryParams())
	if perr != nil {
		return echo.NewHTTPError(http.StatusBadRequest, perr.Message)
	}
	page, err := h.store.Events(ctx, scope(c), store.EventQuery{EventFilter: filter, Before: params.Before, After: params.After, Limit: eventsPerPage, Count: true})
	if err != nil {
		return err
	}
	actors, err := h.store.EventActors(ctx, scope(c))
	if err != nil {
		return err
	}
	v := views.EventList{Params: params, Page: page, Actors: actors}
	setAddress(c, "event-filters", params.PageURL())
	p := h.page(c, "Events", "events")
	return render(c, http.StatusOK, views.EventListPage(p, v), views.EventListFragment(p, v))
}
