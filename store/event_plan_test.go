package store

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A plan reads the whole log when it walks the table, or an index of
// every event, without a bound, or when it sorts. Only the unfiltered log
// may walk from its newest event: every row it reads is one it returns or
// counts, so its LIMIT ends the walk.
var (
	walksEveryEvent = regexp.MustCompile(`(?m)^SCAN e( USING (COVERING )?INDEX events_by_at)?$`)
	sortsEvents     = regexp.MustCompile(`USE TEMP B-TREE`)
)

// TestEventQueriesUseAnIndex proves that every query of the audit log, the
// page (first, older, newer) and its count, for every filter and
// combination of filters, walks an index that holds only the events it
// asks for, in the order it wants them: none reads the log from end to
// end, or sorts it.
func TestEventQueriesUseAnIndex(t *testing.T) {
	s, clock := newTestStore(t)
	fillEvents(t, s, clock, 200)
	ctx := context.Background()
	from, to := clock.now.Add(-time.Hour), clock.now.Add(-time.Minute)
	filters := map[string]EventFilter{
		"none":                {},
		"search":              {Search: "service-007"},
		"action":              {Action: ActionKeyRevoked},
		"actor":               {Actor: "actor1"},
		"target":              {TargetType: TargetKey, TargetID: "id007"},
		"from":                {From: from},
		"to":                  {To: to},
		"from and to":         {From: from, To: to},
		"action and actor":    {Action: ActionKeyRevoked, Actor: "actor1"},
		"search and action":   {Search: "service-007", Action: ActionKeyRevoked},
		"search and actor":    {Search: "service-007", Actor: "actor1"},
		"action and dates":    {Action: ActionKeyRevoked, From: from, To: to},
		"actor and dates":     {Actor: "actor1", From: from, To: to},
		"all but the target":  {Search: "service-007", Action: ActionKeyRevoked, Actor: "actor1", From: from, To: to},
		"target and action":   {TargetType: TargetKey, TargetID: "id007", Action: ActionKeyRevoked},
		"target and everyone": {TargetType: TargetKey, TargetID: "id007", Action: ActionKeyRevoked, Actor: "actor1", Search: "service-007", From: from},
	}
	for name, f := range filters {
		for _, cursor := range []string{"first", "older", "newer"} {
			q := EventQuery{EventFilter: f, Limit: 50}
			switch cursor {
			case "older":
				q.Before = 100
			case "newer":
				q.After = 100
			}
			err := s.read(ctx, func(tx *sql.Tx) error {
				eq, err := q.sql(ctx, tx, s.text)
				if err != nil {
					return err
				}
				for what, query := range map[string]struct {
					sql  string
					args []any
				}{"page": {eq.page, eq.pageArgs}, "count": {eq.count, eq.countArgs}} {
					if query.sql == "" {
						continue // counted by the search index
					}
					plan := queryPlan(t, s, query.sql, query.args)
					if onPostgres {
						if p := pgEventPlanProblem(plan); p != "" {
							t.Errorf("%s, %s page, %s: %s in the plan\n%s", name, cursor, what, p, plan)
						}
						continue
					}
					if sortsEvents.MatchString(plan) || (name != "none" && walksEveryEvent.MatchString(plan)) {
						t.Errorf("%s, %s page, %s: plan\n%s", name, cursor, what, plan)
					}
					if f.Action != "" && f.Actor != "" && f.TargetID == "" && f.Search == "" && !strings.Contains(plan, "events_by_actor_action") {
						t.Errorf("%s, %s page, %s: plan does not walk actor and action together\n%s", name, cursor, what, plan)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(fmt.Errorf("%s, %s page: %w", name, cursor, err))
			}
		}
	}
}

// pgEventPlanProblem is what reads the whole log in PostgreSQL's plan
// (see queryPlan): a Seq Scan of events, which it chooses only when no
// index serves the query, or a Sort. Whether it walks the page's order
// and tests each event, or looks the filter up in its own index, it
// decides by the statistics of the log, as a cost; on a test's few
// events every walk looks cheap.
func pgEventPlanProblem(plan string) string {
	for _, line := range strings.Split(plan, "\n") {
		node := strings.TrimLeft(line, " ->")
		if table, index := pgScanned(node); strings.HasPrefix(node, "Sort ") || (table == "events" && index == "") {
			return node
		}
	}
	return ""
}

// TestEventCountStopsAtTheLimit counts exactly up to EventCountLimit and
// says "more" beyond it, for the whole log, a filter and a search.
func TestEventCountStopsAtTheLimit(t *testing.T) {
	s, clock := newTestStore(t)
	fillEvents(t, s, clock, EventCountLimit+100)
	ctx := context.Background()
	for name, c := range map[string]struct {
		f     EventFilter
		total int
		more  bool
	}{
		"all":            {EventFilter{}, EventCountLimit, true},
		"search":         {EventFilter{Search: "service"}, EventCountLimit, true},
		"action":         {EventFilter{Action: ActionKeyRevoked}, (EventCountLimit + 100) / 4, false},
		"narrow search":  {EventFilter{Search: "service-007"}, (EventCountLimit + 100) / 100, false},
		"actor, action":  {EventFilter{Actor: "actor1", Action: ActionKeyDisabled}, (EventCountLimit + 100) / 20, false},
		"search, action": {EventFilter{Search: "service-007", Action: ActionKeyCreated}, 0, false},
	} {
		page, err := s.Events(ctx, Scope{}, EventQuery{EventFilter: c.f, Count: true})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != c.total || page.More != c.more {
			t.Errorf("%s: total %d, more %v; want %d, %v", name, page.Total, page.More, c.total, c.more)
		}
	}
}
