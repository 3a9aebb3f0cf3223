package store

import (
	"context"
	"database/sql"
	"regexp"
	"strings"
	"testing"
)

// queryPlan returns the database's plan for a query, one line per step.
// PostgreSQL is told to avoid reading a whole table, sorting, and hash
// and merge joins wherever it can: on a test's few rows it would rightly
// prefer them, and what is asked here is whether indexes can serve the
// query.
func queryPlan(t *testing.T, s *Store, query string, args []any) string {
	t.Helper()
	ctx := context.Background()
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	explain := "EXPLAIN QUERY PLAN "
	if onPostgres {
		// Nested loops, as on a large table: a hash or merge join would
		// read the whole inner table of so few rows.
		explain = "EXPLAIN "
		for _, off := range []string{"seqscan", "sort", "hashjoin", "mergejoin"} {
			if _, err := tx.ExecContext(ctx, "SET LOCAL enable_"+off+" = off"); err != nil {
				t.Fatal(err)
			}
		}
	}
	rows, err := tx.QueryContext(ctx, explain+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var detail string
		if onPostgres {
			err = rows.Scan(&detail)
		} else {
			var id, parent, unused int
			err = rows.Scan(&id, &parent, &unused, &detail)
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// planProblem names what is wrong with a plan: a scan of a whole table (as
// opposed to walking an index in order, which stops at the page's end, or
// visiting candidates), or a temporary sort. An export of many keys sorts
// by design, and reads the whole table when it has no candidates to look
// up (see sortSQL).
func planProblem(query, plan string) string {
	if onPostgres {
		return pgPlanProblem(query, plan)
	}
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
	s, _ := newTestStore(t)
	ctx := context.Background()
	orgs := seedSwitchedOff(t, s, 7, 6, 300, 3)
	if onPostgres {
		loadLeadingColumns(t, s)
	}
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

// pgPlanProblem is planProblem for PostgreSQL's plans, which queryPlan
// asks to read no table whole and to sort nothing wherever an index can
// serve: what remains then is a Seq Scan, an index walked with no
// condition (the whole table, in the index's order), or a Sort. As on
// SQLite, a query with an ORDER BY may walk the keys in its sort's
// index, and an export of many keys sorts.
func pgPlanProblem(query, plan string) string {
	walks := strings.Contains(query, " ORDER BY ")
	sorts := strings.HasPrefix(query, "SELECT "+keyListedColumns+" FROM ") && walks
	lines := strings.Split(plan, "\n")
	for i, line := range lines {
		node := strings.TrimLeft(line, " ->")
		if strings.HasPrefix(node, "Sort ") && !sorts {
			return node
		}
		table, index := pgScanned(node)
		if table != "keys" && table != "events" && table != "key_permissions" {
			continue
		}
		if index == "" {
			return node // every row
		}
		if !(walks && table == "keys") && !pgBoundsIndex(lines[i+1:], pgLeading[index]) && !pgPartialIndexes[index] {
			return node // every row, through an index
		}
	}
	return ""
}

// pgPartialIndexes hold only some of their table's rows: read whole,
// they read only those.
var pgPartialIndexes = map[string]bool{"keys_revoked": true}

// pgScanned names the table that a plan's node reads, and the index it
// reads it through, if any.
func pgScanned(node string) (table, index string) {
	kind, rest, ok := strings.Cut(node, " on ")
	if !ok {
		return "", ""
	}
	name, _, _ := strings.Cut(rest, " ")
	switch {
	case kind == "Seq Scan":
		return name, ""
	case kind == "Bitmap Index Scan":
		for _, t := range []string{"key_permissions", "keys", "events"} {
			if strings.HasPrefix(name, t+"_") {
				return t, name
			}
		}
		return "", name
	case strings.HasPrefix(kind, "Index Scan ") || strings.HasPrefix(kind, "Index Only Scan "):
		_, index, _ = strings.Cut(kind, " using ")
		return name, index
	}
	return "", ""
}

// pgBoundsIndex reports whether a node's details, the lines that follow
// it up to its first child, bound its index with a condition on lead, its
// first column (any condition, for an index of an expression): a
// condition on a later column only sorts out what a walk of the whole
// index reads.
func pgBoundsIndex(details []string, lead string) bool {
	bound := regexp.MustCompile(`\(` + regexp.QuoteMeta(lead) + `\b`)
	for _, d := range details {
		d = strings.TrimSpace(d)
		switch {
		case strings.HasPrefix(d, "->"), strings.HasPrefix(d, "SubPlan"), strings.HasPrefix(d, "InitPlan"):
			return false
		case strings.HasPrefix(d, "Index Cond:"):
			return lead == "" || bound.MatchString(d)
		}
	}
	return false
}

// pgLeading maps the name of each index in the test's schema to its first
// column ("" for an expression): see loadLeadingColumns.
var pgLeading map[string]string

// loadLeadingColumns fills pgLeading from the catalog.
func loadLeadingColumns(t *testing.T, s *Store) {
	t.Helper()
	rows, err := s.reader.QueryContext(context.Background(), `SELECT i.relname, coalesce(a.attname, '')
		FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace
		LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
		WHERE n.nspname = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	pgLeading = map[string]string{}
	for rows.Next() {
		var index, lead string
		if err := rows.Scan(&index, &lead); err != nil {
			t.Fatal(err)
		}
		pgLeading[index] = lead
	}
	if err := rows.Err(); err != nil || len(pgLeading) == 0 {
		t.Fatalf("the indexes' first columns: %d, %v", len(pgLeading), err)
	}
}
