package store

import (
	"context"
	"database/sql"
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

// planProblem names what is wrong with a plan: a scan of a whole table (as
// opposed to walking an index in order, which stops at the page's end, or
// visiting candidates), or a temporary sort. An export of many keys sorts
// by design, and reads the whole table when it has no candidates to look
// up (see sortSQL).
func planProblem(query, plan string) string {
	// Walking the sort's index in order: a page stops when it is full, an
	// export reads every key it lists anyway.
	walks := strings.Contains(query, " ORDER BY ")
	sorts := strings.HasPrefix(query, "SELECT "+keyListedColumns+" FROM ") && walks
	scans := sorts && strings.Contains(query, " FROM keys k NOT INDEXED WHERE ") && !strings.Contains(query, "k.id IN (")
	for _, line := range strings.Split(plan, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.Contains(line, "TEMP B-TREE") && sorts:
		case line == "SCAN k" && scans:
		case strings.Contains(line, "TEMP B-TREE"):
			return line
		case strings.HasPrefix(line, "SCAN k USING ") && walks:
		case line == "SCAN k" || line == "SCAN kp" || strings.HasPrefix(line, "SCAN k USING ") || strings.HasPrefix(line, "SCAN kp USING "):
			return line // every key, or every key's permissions
		}
	}
	return ""
}

type loggedQuery struct {
	query string
	args  []any
}

// recordQueries collects every query of the key list while fn runs.
func recordQueries(fn func()) []loggedQuery {
	var log []loggedQuery
	onQuery = func(query string, args []any) { log = append(log, loggedQuery{query, args}) }
	defer func() { onQuery = nil }()
	fn()
	return log
}

// TestKeyQueriesNeitherScanNorSort runs EXPLAIN QUERY PLAN on every query
// that the key list, its count, its export and its bulk selection make,
// for every filter, sort, direction and page, on both of the planner's
// paths, and fails on a scan of a whole table or a temporary sort.
func TestKeyQueriesNeitherScanNorSort(t *testing.T) {
	sqliteOnly(t, "the query planner")
	s, _ := newTestStore(t)
	ctx := context.Background()
	orgs := seedSwitchedOff(t, s, 7, 6, 300, 3)
	filters := []KeyFilter{
		{}, {Search: "bill"}, {Search: "o"}, {Search: "%"}, {Search: "bill o"},
		{Permission: "chat"}, {CreatedBy: "alice"}, {Org: orgs[1].ID},
		{Statuses: []StatusFilter{FilterAvailable, FilterSoon}},
		{Search: "prod", Statuses: []StatusFilter{FilterDisabled}, Permission: "securemail", Org: orgs[2].ID},
	}
	for _, st := range StatusFilters {
		filters = append(filters, KeyFilter{Statuses: []StatusFilter{st}}, KeyFilter{Search: "eu", Statuses: []StatusFilter{st}})
	}
	defer setReadCaps(50_000)()
	seen := map[string]bool{}
	// 40: most filters' parts have more candidates, and some filters fewer
	// matches, which the count finds and reads whole.
	for i, cap := range []int{50_000, 0, 40, 50_000, 0, 40} {
		if i == 3 {
			// Then with no organization switched off, which the queries
			// leave out.
			if _, err := s.SetOrgPolicy(ctx, SystemActor("test"), orgs[3].ID, Policy{APIKeysEnabled: true}); err != nil {
				t.Fatal(err)
			}
		}
		setReadCaps(cap)
		log := recordQueries(func() {
			for _, f := range filters {
				for sort := range keySorts {
					for _, desc := range []bool{false, true} {
						q := KeyQuery{KeyFilter: f, Sort: sort, Desc: desc, Limit: 7}
						first, err := s.Keys(ctx, Scope{}, q)
						if err != nil {
							t.Fatal(err)
						}
						if first.Next != "" {
							q.After = first.Next
							if _, err := s.Keys(ctx, Scope{}, q); err != nil {
								t.Fatal(err)
							}
						}
						if _, err := s.Keys(ctx, Scope{}, KeyQuery{KeyFilter: f, Sort: sort, Desc: desc, Last: true, Limit: 7}); err != nil {
							t.Fatal(err)
						}
					}
				}
				if _, err := s.EachKey(ctx, Scope{}, f, SortExpires, false, func(Key) error { return nil }); err != nil {
					t.Fatal(err)
				}
				err := s.read(ctx, func(tx *sql.Tx) error {
					_, err := s.selectKeys(ctx, tx, Scope{}, KeySelection{Filter: &f}, s.now())
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
			}
		})
		for _, lq := range log {
			if seen[lq.query] {
				continue
			}
			seen[lq.query] = true
			plan := queryPlan(t, s, lq.query, lq.args)
			if p := planProblem(lq.query, plan); p != "" && !wholeTableByDesign(lq.query) {
				t.Errorf("%s\nin the plan of\n%s\n%s", p, lq.query, plan)
			}
		}
	}
	if len(seen) < 50 {
		t.Fatalf("only %d queries were checked", len(seen))
	}
}

// wholeTableByDesign reports whether a query is about every key: counting
// all of them (up to the cap) or selecting them all for a bulk action; or
// searching for punctuation alone, which no index holds.
func wholeTableByDesign(query string) bool {
	return strings.Contains(query, "FROM keys k WHERE TRUE LIMIT") || strings.HasSuffix(query, "FROM keys k WHERE TRUE") ||
		strings.Contains(query, "FROM keys k WHERE TRUE AND k.name_fold LIKE")
}
