package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
)

// apiEvent is an audit event as the management API answers it.
type apiEvent struct {
	ID         int64                   `json:"id"`
	At         time.Time               `json:"at"`
	Actor      string                  `json:"actor"`
	Action     string                  `json:"action"`
	TargetType string                  `json:"target_type"`
	TargetID   string                  `json:"target_id"`
	TargetName string                  `json:"target_name"`
	Changes    map[string]store.Change `json:"changes,omitempty"`
	Details    map[string]any          `json:"details,omitempty"`
}

// apiListEvents answers the audit log of the caller's organizations,
// newest first, a page at a time: limit (at most 1,000) and after (the
// answer's "next", an event id).
func (h *handler) apiListEvents(c echo.Context) error {
	u, _ := apiCaller(c)
	q := store.EventQuery{Limit: 100}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxAPIPage {
			return apiFail(c, store.Errorf(store.EINVALID, "limit", "The limit is a number from 1 to %d.", maxAPIPage))
		}
		q.Limit = n
	}
	if a := c.QueryParam("after"); a != "" {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n < 1 {
			return apiFail(c, store.Errorf(store.EINVALID, "after", "after is the next of a previous answer."))
		}
		q.Before = n
	}
	q.Action = c.QueryParam("action")
	page, err := h.store.Events(c.Request().Context(), u.Scope(), q)
	if err != nil {
		return apiFail(c, err)
	}
	data := make([]apiEvent, len(page.Events))
	for i, e := range page.Events {
		data[i] = apiEvent{ID: e.ID, At: e.At.UTC(), Actor: e.ActorUsername, Action: e.Action, TargetType: e.TargetType,
			TargetID: e.TargetID, TargetName: e.TargetName, Changes: e.Changes, Details: e.Details}
	}
	var next *string
	if page.Next > 0 {
		s := strconv.FormatInt(page.Next, 10)
		next = &s
	}
	return c.JSON(http.StatusOK, map[string]any{"data": data, "next": next})
}
