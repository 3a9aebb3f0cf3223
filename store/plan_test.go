package store

import (
	"context"
	"strings"
	"testing"
)

// queryPlan returns SQLite's plan for a query, one line per step.
func queryPlan(t *testing.T, s *Store, query string, args []any) string {
	t.Helper()
	rows, err := s.reader.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "\n")
}

// TestListQueriesUseAnIndex proves every sort of the key list, in both
// directions and from a cursor, reads an index in order: no table scan, no
// sorting of the whole table.
func TestListQueriesUseAnIndex(t *testing.T) {
	s, clock := newTestStore(t)
	mustCreateKey(t, s, NewKey{Name: "one"})
	for sort := range keySortExprs {
		if sort == SortStatus {
			continue // computed from the clock; documented as a scan
		}
		for _, desc := range []bool{false, true} {
			q := KeyQuery{Sort: sort, Desc: desc, Limit: 50}
			first, err := q.sql(clock.now)
			if err != nil {
				t.Fatal(err)
			}
			values := make([]any, len(first.exprs))
			for i := range values {
				values[i] = int64(1)
				if strings.Contains(first.exprs[i], "name_sort") || strings.Contains(first.exprs[i], "created_by") ||
					strings.Contains(first.exprs[i], "permissions") || strings.Contains(first.exprs[i], "hint") {
					values[i] = "m"
				}
			}
			q.After = encodeCursor(values)
			next, err := q.sql(clock.now)
			if err != nil {
				t.Fatal(err)
			}
			for name, pq := range map[string]pageQuery{"first page": first, "next page": next} {
				plan := queryPlan(t, s, pq.page, pq.pageArgs)
				// A later page seeks into the index; it does not scan from the start.
				wantStep := "USING INDEX keys_by_"
				if name == "next page" {
					wantStep = "SEARCH k USING INDEX keys_by_"
				}
				if strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, wantStep) {
					t.Errorf("sort %s desc=%v, %s: plan\n%s", sort, desc, name, plan)
				}
			}
		}
	}
	// Filtering by permission and by search go through their indexes.
	for _, f := range []KeyFilter{{Permission: "chat"}, {Search: "billing"}} {
		pq, err := KeyQuery{KeyFilter: f, Sort: SortName}.sql(clock.now)
		if err != nil {
			t.Fatal(err)
		}
		plan := queryPlan(t, s, pq.page, pq.pageArgs)
		if !strings.Contains(plan, "USING PRIMARY KEY (key_id=? AND permission=?)") && !strings.Contains(plan, "VIRTUAL TABLE INDEX") {
			t.Errorf("filter %+v: plan\n%s", f, plan)
		}
	}
}
