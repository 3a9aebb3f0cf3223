package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// KeySort names a sort order of the key list.
type KeySort string

const (
	SortName        KeySort = "name"
	SortPermissions KeySort = "permissions"
	SortStatus      KeySort = "status"
	SortEnabled     KeySort = "enabled"
	SortExpires     KeySort = "expires"
	SortCreatedBy   KeySort = "created_by"
	SortCreated     KeySort = "created"
	SortLastUsed    KeySort = "last_used"
	SortUses        KeySort = "uses"
	SortUses24h     KeySort = "uses_24h"
)

// keySorts maps each sort to the SQL expression it orders by and the index
// that holds that order; the id (the order the keys were created in)
// breaks ties, and ends every index. Status has neither: its rank needs the
// clock (see order), and it is walked status by status (walkByStatus), each
// in name order.
var keySorts = map[KeySort]struct{ expr, index string }{
	SortName:        {"k.name_sort", "keys_by_name"},
	SortPermissions: {"k.permissions", "keys_by_permissions"},
	SortEnabled:     {"k.enabled", "keys_by_enabled"},
	SortExpires:     {"k.expires_sort", "keys_by_expiry"},
	SortCreatedBy:   {"k.created_by", "keys_by_creator"},
	SortCreated:     {"k.created_at", "keys_by_created"},
	SortLastUsed:    {"k.last_used_sort", "keys_by_last_used"},
	SortUses:        {"k.use_count", "keys_by_uses"},
	SortUses24h:     {"k.uses_24h", "keys_by_uses_24h"},
	SortStatus:      {},
}

// ValidKeySort reports whether s names a sort order.
func ValidKeySort(s KeySort) bool {
	_, ok := keySorts[s]
	return ok
}

// KeyFilter selects keys. The zero value selects all.
type KeyFilter struct {
	Search     string
	Statuses   []StatusFilter
	Permission string
	CreatedBy  string
	// Org selects the keys at an organization (a public id) and below it;
	// empty is the whole of the caller's scope.
	Org string

	// scope is the caller's scope narrowed to Org: see resolveScope.
	scope Scope
}

// KeyQuery is a page of a filtered, sorted key list. After and Before are
// cursors from a previous KeyPage; at most one is set. Last asks for the
// last page instead of the first.
type KeyQuery struct {
	KeyFilter
	Sort   KeySort
	Desc   bool
	After  string
	Before string
	Last   bool
	Limit  int
}

// KeyPage is one page of keys, how many keys match in all, and the cursors
// of the pages beside it ("" where there is none).
type KeyPage struct {
	Keys []Key
	// Total is the number of keys that match, exact up to CountCap. When
	// more match, Total is CountCap and More is set: the list says "more
	// than 10,000" rather than count a million keys on every keystroke.
	Total int
	More  bool
	Next  string
	Prev  string
}

// CountCap is how far the key list counts.
const CountCap = 10_000

// How a page is found, at any size of the table:
//
// A filter is a list of parts (the organization scope, the search, the
// status filters, the permission, the creator). Each part is a condition
// on a key, and most parts can also list, from an index, the ids of a
// superset of the keys they match: their candidates. One part drives the
// query: one whose candidates can be read whole (at most readCap), the
// fewest first.
//
//   - When the driver's candidates can be read whole, every one is read
//     and tested against the whole filter, and the matches are sorted in
//     Go: the cost is that of the candidates, and the count is exact.
//   - Otherwise every part matches many keys, and so, most likely, does
//     the filter: a page of them is found by walking the sort's index and
//     testing each key, which stops as soon as the page is full. A
//     search's candidates (up to probeCap) are tested first, on the id
//     the index holds, so that keys that are not candidates cost no read.
//     The count stops at CountCap; it reads only indexes when the parts
//     can tell a match from its id (see countedSQL), and otherwise tests
//     the parts that can before it reads a candidate's row, preferring a
//     driver that lists its candidates by id (see driverRank). It runs
//     before the page: when it finds at most readCap matches, they are
//     read whole and sorted as above, rather than walked for along an
//     order they may be scattered over. The status order, which no index
//     holds, walks one status after another, each planned on its own.
//
// Either way no query of a page reads the whole table or sorts it (an
// export of many keys does: see sortSQL). What it cannot
// bound is a walk whose matches all sit at the far end of the sort's order
// (a filter that the order's own column decides, as an OR): see the
// performance table in the README.

// readCap is the most candidates a query reads whole: reading a candidate
// and its sort values costs a few microseconds. probeCap is the most
// candidates of a search that a walk tests each key of its index against,
// before it reads the key: a walk whose matches sit far along the order
// then costs a fraction of a microsecond per key it passes, not a read.
// Tests lower them to try the other paths.
var (
	readCap  = 10_000
	probeCap = 50_000
)

// args collects named SQL parameters; add returns the placeholder for one.
type args struct{ list []any }

// times adds the placeholders of now and of the end of the soon window,
// which status conditions use (see bindStatus).
func (a *args) times(now time.Time) (n, soon string) {
	return a.add(now.Unix()), a.add(now.Add(SoonWindow).Unix())
}

func (a *args) add(v any) string {
	name := "p" + strconv.Itoa(len(a.list)+1)
	a.list = append(a.list, sql.Named(name, v))
	return ":" + name
}

// filterPart is one part of a filter: its condition on the key k, and a
// query whose one column, id, lists the ids of a superset of the keys it
// matches through an index ("" when no index serves it).
type filterPart struct {
	cond   string
	driver string
	exact  bool // the driver lists exactly the keys that meet cond
	// probe is set when the driver lists its candidates from a small index
	// (the search's), quickly enough to test a walk's keys against.
	probe bool
	// ordered is set when the driver lists its ids in ascending order, so
	// that reading their rows reads the table from one end to the other
	// rather than a page at random for each: at a million keys, 0.3 µs a
	// row instead of several.
	ordered bool
	// member tests, without reading the key's row, that the key whose id
	// is d.id meets cond ("" when that needs the row).
	member string
}

// keyDriver lists the keys that meet any of conds, each of which an index
// serves. Each key is listed once: a condition leaves out the keys of the
// ones before it, so that no step has to remove duplicates.
func keyDriver(conds ...string) string {
	selects := make([]string, len(conds))
	for i, c := range conds {
		selects[i] = "SELECT k.id AS id FROM keys k WHERE (" + c + ")"
		for _, before := range conds[:i] {
			selects[i] += " AND NOT (" + before + ")"
		}
	}
	return strings.Join(selects, " UNION ALL ")
}

// parts returns the filter's parts at now. Their SQL is fixed text and
// placeholders; every value is bound in a.
func (f KeyFilter) parts(ctx context.Context, tx *sql.Tx, p *keyPlan) ([]filterPart, error) {
	a, now, noneOff := &p.a, p.now, p.noneOff
	var parts []filterPart
	if !f.scope.Whole() {
		cond := f.scope.orgCondition(a, "k.org_id")
		parts = append(parts, filterPart{cond: cond, driver: keyDriver(cond), exact: true})
	}
	if f.CreatedBy != "" {
		cond := "k.created_by = " + a.add(f.CreatedBy)
		// keys_by_creator lists one creator's keys by row id.
		parts = append(parts, filterPart{cond: cond, driver: keyDriver(cond), exact: true, ordered: true})
	}
	if q := strings.TrimSpace(f.Search); q != "" {
		part, err := searchPart(ctx, tx, a, p.text, q)
		if err != nil {
			return nil, err
		}
		parts = append(parts, part)
	}
	if len(f.Statuses) > 0 {
		n, soon := a.times(now)
		var conds, drivers []string
		for _, st := range f.Statuses {
			r, ok := filterRules[st]
			if !ok {
				return nil, Errorf(EINVALID, "status", "There is no status filter %q.", st)
			}
			conds = append(conds, p.bindStatus(r.sql(noneOff), n, soon))
			for _, d := range r.driverConds(noneOff) {
				drivers = append(drivers, p.bindStatus(d, n, soon))
			}
		}
		// The drivers of each filter list exactly its keys, and keyDriver
		// lists each key once.
		parts = append(parts, filterPart{cond: "(" + strings.Join(conds, " OR ") + ")", driver: keyDriver(drivers...), exact: true})
	}
	if f.Permission != "" {
		// The keys that hold the permission, or a wildcard that grants it
		// (see Grants): nexus:cluster:admin is held by nexus:cluster:*
		// and nexus:*.
		names := grantingNames(f.Permission)
		holders := make([]string, len(names))
		conds := make([]string, len(names))
		for i, name := range names {
			holders[i] = a.add(name)
			// keys.permissions is the sorted, space-separated copy of
			// key_permissions: testing it costs nothing once the row is read.
			conds[i] = p.db.Contains("' ' || k.permissions || ' '", "' ' || "+holders[i]+" || ' '")
		}
		// key_permissions holds the permission's row: the names' rows
		// are found once for the whole statement.
		in := "= (SELECT id FROM permissions WHERE name = " + holders[0] + ")"
		driver := "SELECT kp.key_id AS id FROM key_permissions kp WHERE kp.permission_id " + in
		if len(names) > 1 {
			in = "IN (SELECT id FROM permissions WHERE name IN (" + strings.Join(holders, ", ") + "))"
			driver = "SELECT DISTINCT kp.key_id AS id FROM key_permissions kp WHERE kp.permission_id " + in
		}
		parts = append(parts, filterPart{
			cond:   "(" + strings.Join(conds, " OR ") + ")",
			driver: driver,
			exact:  true,
			// key_permissions_by_permission lists one permission's keys by
			// id; the keys of several come out of DISTINCT's own order.
			ordered: len(names) == 1,
			member:  "EXISTS (SELECT 1 FROM key_permissions kp WHERE kp.key_id = d.id AND kp.permission_id " + in + ")",
		})
	}
	return parts, nil
}

// searchPart is what the user typed as a filter: each word of it is in a
// word of the key's name or creator, or (two letters or more) starts its
// public id. LIKE decides. The text index lists the candidates, when it
// can (see keyCandidates).
func searchPart(ctx context.Context, tx *sql.Tx, a *args, idx textIndex, q string) (filterPart, error) {
	words := searchWords(q)
	if len(words) == 0 {
		// Only punctuation: match it literally in names.
		return filterPart{cond: "k.name_fold LIKE " + a.add(likePattern(foldName(q))) + ` ESCAPE '\'`}, nil
	}
	conds := make([]string, len(words))
	for i, w := range words {
		conds[i] = wordCond(a, w)
		if idPrefix(w) {
			// The start of a public id; one letter would pick ids at random.
			conds[i] += " OR k.public_id LIKE " + a.add(strings.TrimPrefix(likePattern(w), "%")) + ` ESCAPE '\'`
		}
		conds[i] = "(" + conds[i] + ")"
	}
	driver, exact, err := idx.keyCandidates(ctx, tx, a, words)
	return filterPart{
		cond:   "(" + strings.Join(conds, " AND ") + ")",
		driver: driver,
		exact:  exact,
		probe:  true,
		// The full-text index lists its documents by id (the few keys
		// found by their public id alone come after them).
		ordered: true,
	}, err
}

// wordCond is the condition that the query word w is in the key's name or
// creator.
func wordCond(a *args, w string) string {
	p := a.add(likePattern(w))
	return "k.name_fold LIKE " + p + ` ESCAPE '\' OR k.created_by LIKE ` + p + ` ESCAPE '\'`
}

// idPrefix reports whether the query word w is searched for at the start
// of public ids too.
func idPrefix(w string) bool { return utf8.RuneCountInString(w) >= 2 }

// orgsOff lists the row ids of the organizations where API keys are
// switched off, there or above.
func orgsOff(ctx context.Context, tx *sql.Tx) ([]int64, error) {
	return allRows(ctx, tx, scanID, orgsOffSQL)
}

// maxBoundOrgs is how many organizations inOrgs binds one by one.
const maxBoundOrgs = 200

// inOrgs is the condition that a key is in one of the organizations
// ids. Each is bound on its own, so that the database's planner can tell
// from its statistics how many keys those hold: from "one of a list it
// cannot see", PostgreSQL guessed many, and read every key to find the
// first. Longer lists go as one JSON array.
func (p *keyPlan) inOrgs(ids []int64) string {
	switch {
	case len(ids) == 0:
		return "FALSE"
	case len(ids) > maxBoundOrgs:
		list, _ := json.Marshal(ids)
		return "k.org_id IN (" + p.db.IDsIn(p.a.add(string(list))) + ")"
	}
	holders := make([]string, len(ids))
	for i, id := range ids {
		holders[i] = p.a.add(id)
	}
	return "k.org_id IN (" + strings.Join(holders, ", ") + ")"
}

// bindTimes puts the placeholders of now and of the end of the soon window
// into a status condition.
func bindTimes(cond, now, soon string) string {
	return strings.NewReplacer("{now}", now, "{soon}", soon).Replace(cond)
}

// bindStatus is bindTimes, and puts in the condition that a key's
// organization is switched off, as the plan found them.
func (p *keyPlan) bindStatus(cond, now, soon string) string {
	return strings.ReplaceAll(bindTimes(cond, now, soon), "{orgOff}", p.orgOff)
}

// keyPlan is a filter made ready to run: the condition of all its parts,
// and the part that drives it.
type keyPlan struct {
	db         engine
	text       textIndex
	a          args
	now        time.Time
	filter     KeyFilter
	where      string
	driver     string // "" when no part has an index
	parts      []filterPart
	candidates int  // how many ids the driver lists, counted up to limit
	limit      int  // how far the driver's ids were counted
	exact      bool // the driver lists exactly the matches
	noneOff    bool // no organization has API keys switched off
	// orgOff is the condition that a key's organization has them
	// switched off, there or above (see bindStatus).
	orgOff string
	// probe is the driver of a part with probe set and at most probeCap
	// candidates, the fewest: a walk tests each key's id against it first.
	probe      string
	probeCount int
	// counted lists the matches from the driver's index and the other
	// parts' members, without reading a key's row ("" when some part
	// needs the row).
	counted string
	// members test the driver's ids d.id against the other parts that can
	// tell a match without its row (see memberConds).
	members []string
	// whole is set when the count found few enough matches to read them
	// whole, though no part's candidates were (see Keys); wholeIDs are
	// their row ids, as a JSON array.
	whole    bool
	wholeIDs string
}

// planKeys measures the parts of f inside tx and picks the driver.
func (s *Store) planKeys(ctx context.Context, tx *sql.Tx, f KeyFilter, now time.Time) (*keyPlan, error) {
	p := &keyPlan{db: s.db, text: s.text, now: now, filter: f}
	// Almost always no organization has its API keys switched off: then
	// the statuses need not ask, and an index can serve what they ask.
	off, err := orgsOff(ctx, tx)
	if err != nil {
		return nil, err
	}
	p.noneOff = len(off) == 0
	p.orgOff = p.inOrgs(off)
	parts, err := f.parts(ctx, tx, p)
	if err != nil {
		return nil, err
	}
	return p, p.choose(ctx, tx, parts)
}

// choose measures parts inside tx and picks the driver.
func (p *keyPlan) choose(ctx context.Context, tx *sql.Tx, parts []filterPart) error {
	p.parts = parts
	p.exact = len(parts) == 1 && parts[0].exact

	conds := []string{"TRUE"}
	driverPart := -1
	var best driverRank
	for i, part := range parts {
		conds = append(conds, part.cond)
		if part.driver == "" {
			continue
		}
		// Counting stops past what the part could read (or probe), and at
		// the best so far: a later part only matters if it has fewer.
		limit := readCap + 1
		if part.probe {
			limit = probeCap + 1
		}
		if p.narrow() {
			limit = min(limit, p.candidates)
		}
		n, err := queryInt(ctx, tx, `SELECT count(*) FROM (`+part.driver+` LIMIT `+strconv.Itoa(limit)+`) AS m`, p.a.list)
		if err != nil {
			return err
		}
		rank := driverRank{readable: n <= readCap, ordered: part.ordered, known: n < limit, n: n}
		if p.driver == "" || rank.beats(best) {
			p.driver, p.candidates, p.limit, driverPart, best = part.driver, n, limit, i, rank
		}
		if part.probe && n <= probeCap && (p.probe == "" || n < p.probeCount) {
			p.probe, p.probeCount = part.driver, n
		}
	}
	p.where = strings.Join(conds, " AND ")
	p.counted = countedSQL(parts, driverPart, p.probe)
	p.members = memberConds(parts, driverPart, p.probe)
	return nil
}

// driverRank is what choose knows of a part that could drive a plan.
type driverRank struct {
	readable bool // its candidates can be read whole
	ordered  bool // it lists them by id (see filterPart)
	known    bool // they were counted to the end, not to a limit
	n        int  // how many, up to the limit
}

// beats reports whether the part ranked r drives a plan better than the
// one ranked o. A part whose candidates can be read whole beats one whose
// cannot, whatever their numbers; between those, the fewest win. Between
// two that cannot, what costs is reading a row for each candidate until
// the count's CountCap matches: rows read in order of id cost a tenth of
// rows read at random, and a number counted to the end (the search's, up
// to probeCap) is likelier small than one that stopped at readCap.
func (r driverRank) beats(o driverRank) bool {
	switch {
	case r.readable != o.readable:
		return r.readable
	case r.readable:
	case r.ordered != o.ordered:
		return r.ordered
	case r.known != o.known:
		return r.known
	}
	return r.n < o.n
}

// memberConds are the tests, on the id d.id, of the parts other than the
// driver that can tell a match without reading its row: when a query must
// read rows, they come first, so that it reads only the rows of ids that
// pass them.
func memberConds(parts []filterPart, driver int, probe string) []string {
	var out []string
	for i, part := range parts {
		switch {
		case i == driver:
		case part.probe && part.driver == probe && probe != "":
			out = append(out, "d.id IN ("+part.driver+")")
		case part.member != "":
			out = append(out, part.member)
		}
	}
	return out
}

// countedSQL lists the matches of parts from the driver's index, testing
// each id against the other parts' members, when every part is exact and
// every other one has a member ("" otherwise). The search's member is its
// candidates, when a walk probes them.
func countedSQL(parts []filterPart, driver int, probe string) string {
	if driver < 0 || len(parts) < 2 {
		return ""
	}
	var members []string
	for i, part := range parts {
		if part.probe && part.driver == probe && probe != "" {
			part.member = "d.id IN (" + part.driver + ")"
		}
		if !part.exact || (i != driver && part.member == "") {
			return ""
		}
		if i != driver {
			members = append(members, part.member)
		}
	}
	return "SELECT d.id AS id FROM (" + parts[driver].driver + ") AS d WHERE " + strings.Join(members, " AND ")
}

// narrow reports whether the plan reads every candidate.
func (p *keyPlan) narrow() bool { return p.whole || (p.driver != "" && p.candidates <= readCap) }

// from is the FROM and WHERE clauses that visit the driver's candidates,
// or every key, and keep those that meet where.
func (p *keyPlan) from(where string) string {
	if p.driver == "" {
		return "keys k WHERE " + where
	}
	// CROSS JOIN keeps SQLite from reordering: the candidates come first,
	// and each is looked up by its row id.
	return "(" + p.driver + ") AS d CROSS JOIN keys k WHERE k.id = d.id AND " + where
}

// matchWhere is the condition of a query that reads the driver's
// candidates' rows: the other parts' members, which need no row, before
// the filter, except when the candidates are few enough to read whole.
func (p *keyPlan) matchWhere() string {
	if p.driver == "" || len(p.members) == 0 || p.candidates <= readCap {
		return p.where
	}
	return strings.Join(p.members, " AND ") + " AND " + p.where
}

// count returns how many keys match, up to CountCap, and whether more do.
func (p *keyPlan) count(ctx context.Context, tx *sql.Tx) (int, bool, error) {
	n, more, _, err := p.countMatches(ctx, tx, false)
	return n, more, err
}

// countMatches counts the matches as count does; with ids, it also
// returns their row ids as a JSON array, unless it could count them from
// the plan's candidates alone ("" then).
func (p *keyPlan) countMatches(ctx context.Context, tx *sql.Tx, ids bool) (n int, more bool, list string, err error) {
	if p.exact && p.limit > CountCap {
		// The plan counted the driver's ids far enough already.
		return min(p.candidates, CountCap), p.candidates > CountCap, "", nil
	}
	matches := `SELECT k.id AS id FROM ` + p.from(p.matchWhere())
	switch {
	case p.exact:
		matches = p.driver // its index alone
	case p.counted != "":
		matches = p.counted
	}
	query := `SELECT count(*) FROM (` + matches + ` LIMIT ` + strconv.Itoa(CountCap+1) + `) AS m`
	if !ids {
		n, err = queryInt(ctx, tx, query, p.a.list)
		return min(n, CountCap), n > CountCap, "", err
	}
	query = `SELECT count(*), ` + p.db.IDArray("id") + ` FROM (` + matches + ` LIMIT ` + strconv.Itoa(CountCap+1) + `) AS m`
	traceQuery(query, p.a.list)
	err = tx.QueryRowContext(ctx, query, p.a.list...).Scan(&n, &list)
	return min(n, CountCap), n > CountCap, list, err
}

// ids returns the ids of every matching key, in no order.
func (p *keyPlan) ids(ctx context.Context, tx *sql.Tx) ([]int64, error) {
	query := `SELECT k.id FROM ` + p.from(p.where)
	traceQuery(query, p.a.list)
	return allRows(ctx, tx, scanID, query, p.a.list...)
}

// onQuery, when a test sets it, sees every query of the key list before it
// runs, so that the test can check how SQLite plans it.
var onQuery func(query string, args []any)

func traceQuery(query string, args []any) {
	if onQuery != nil {
		onQuery(query, args)
	}
}

// queryInt runs a query that answers one integer.
func queryInt(ctx context.Context, tx *sql.Tx, query string, args []any) (int, error) {
	traceQuery(query, args)
	var n int
	err := tx.QueryRowContext(ctx, query, args...).Scan(&n)
	return n, err
}

// sortedRow is a key's row id and the values it sorts by.
type sortedRow struct {
	id     int64
	values []any
}

// order returns the sort expressions of sort: the sort's own, then the
// tie-breakers.
func (p *keyPlan) order(a *args, sort KeySort) ([]string, error) {
	ks, ok := keySorts[sort]
	expr := ks.expr
	if !ok {
		return nil, Errorf(EINVALID, "sort", "The list cannot be sorted by %q.", sort)
	}
	if sort == SortStatus {
		n, soon := a.times(p.now)
		return []string{p.bindStatus(statusRankSQL(), n, soon), "k.name_sort", "k.id"}, nil
	}
	return []string{expr, "k.id"}, nil
}

// read is one read of the list: in the order of sort (descending when
// desc), strictly after cursor when there is one, at most n rows.
type read struct {
	sort   KeySort
	desc   bool
	cursor []any
	n      int
}

// rows returns the rows of one read, and how many keys match when the
// read told (-1 when it did not).
func (p *keyPlan) rows(ctx context.Context, tx *sql.Tx, r read) ([]sortedRow, int, error) {
	if p.narrow() {
		all, err := p.matches(ctx, tx, r.sort)
		if err != nil {
			return nil, 0, err
		}
		slices.SortFunc(all, func(x, y sortedRow) int { return compareValues(x.values, y.values, r.desc) })
		start := 0
		if r.cursor != nil {
			start, _ = slices.BinarySearchFunc(all, r.cursor, func(x sortedRow, c []any) int {
				if compareValues(x.values, c, r.desc) <= 0 {
					return -1
				}
				return 1
			})
		}
		end := start + min(r.n, len(all)-start)
		return all[start:end], len(all), nil
	}
	walk := p.walk
	if r.sort == SortStatus {
		walk = p.walkByStatus
	}
	rows, err := walk(ctx, tx, r)
	return rows, -1, err
}

// matches reads the sort values of every key that matches.
func (p *keyPlan) matches(ctx context.Context, tx *sql.Tx, sort KeySort) ([]sortedRow, error) {
	a := args{list: slices.Clone(p.a.list)}
	exprs, err := p.order(&a, sort)
	if err != nil {
		return nil, err
	}
	query := `SELECT ` + strings.Join(exprs, ", ") + ` FROM ` + p.from(p.matchWhere())
	if p.whole {
		// The count found them: their rows alone are read.
		query = `SELECT ` + strings.Join(exprs, ", ") + ` FROM keys k WHERE k.id IN (` + p.db.IDsIn(a.add(p.wholeIDs)) + `)`
	}
	traceQuery(query, a.list)
	rows, err := tx.QueryContext(ctx, query, a.list...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	all := make([]sortedRow, 0, p.candidates)
	for rows.Next() {
		row, err := scanSortedRow(rows, len(exprs))
		if err != nil {
			return nil, err
		}
		all = append(all, row)
	}
	return all, rows.Err()
}

// scanSortedRow reads a row of sort values, the last of which is the id.
func scanSortedRow(rows *sql.Rows, n int) (sortedRow, error) {
	values := make([]any, n)
	dest := make([]any, n)
	for i := range values {
		dest[i] = &values[i]
	}
	if err := rows.Scan(dest...); err != nil {
		return sortedRow{}, err
	}
	id, _ := values[n-1].(int64)
	return sortedRow{id: id, values: values}, nil
}

// walk reads a page by walking the sort's index from the cursor, testing
// each key against the filter.
func (p *keyPlan) walk(ctx context.Context, tx *sql.Tx, r read) ([]sortedRow, error) {
	query, a, n, err := p.walkSQL(r)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, query, a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sortedRow
	for rows.Next() {
		row, err := scanSortedRow(rows, n)
		if err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// walkSQL is the query of a walk, which selects the n sort values; to the
// end of the list when r.n is 0.
func (p *keyPlan) walkSQL(r read) (query string, list []any, n int, err error) {
	a := args{list: slices.Clone(p.a.list)}
	exprs, err := p.order(&a, r.sort)
	if err != nil {
		return "", nil, 0, err
	}
	where := p.where
	if p.probe != "" {
		// The id is in the index walked: a key that is not a candidate is
		// passed over without reading its row.
		where = "k.id IN (" + p.probe + ") AND " + where
	}
	if r.cursor != nil {
		if len(r.cursor) != len(exprs) {
			return "", nil, 0, errBadCursor
		}
		holders := make([]string, len(r.cursor))
		for i, v := range r.cursor {
			holders[i] = a.add(v)
		}
		op := map[bool]string{false: ">", true: "<"}[r.desc]
		where += " AND (" + strings.Join(exprs, ", ") + ") " + op + " (" + strings.Join(holders, ", ") + ")"
	}
	dir := map[bool]string{false: " ASC", true: " DESC"}[r.desc]
	query = `SELECT ` + strings.Join(exprs, ", ") + ` FROM keys k INDEXED BY ` + keySorts[r.sort].index + ` WHERE ` + where +
		` ORDER BY ` + strings.Join(exprs, dir+", ") + dir
	if r.n > 0 {
		query += ` LIMIT ` + strconv.Itoa(r.n)
	}
	traceQuery(query, a.list)
	return query, a.list, len(exprs), nil
}

// each calls fn for every key of the plan in the order of sort: for a plan
// that reads its candidates whole, from them; otherwise sorted by SQLite
// (see sortSQL); the status order one status after another.
func (p *keyPlan) each(ctx context.Context, tx *sql.Tx, sort KeySort, desc bool, orgs *keyOrgs, fn func(Key) error) error {
	if p.narrow() {
		rows, _, err := p.rows(ctx, tx, read{sort: sort, desc: desc, n: p.candidates})
		if err != nil {
			return err
		}
		for chunk := range slices.Chunk(rows, exportChunk) {
			keys, err := keysByRow(ctx, tx, chunk, orgs)
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := fn(k); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if sort == SortStatus {
		ranks := statusRanks()
		if desc {
			slices.Reverse(ranks)
		}
		for _, st := range ranks {
			if !p.mayHave(st) {
				continue
			}
			sub, err := p.status(ctx, tx, st)
			if err != nil {
				return err
			}
			if err := sub.each(ctx, tx, SortName, desc, orgs, fn); err != nil {
				return err
			}
		}
		return nil
	}
	fromDriver := false
	if p.driver != "" && p.probe == "" {
		n, err := queryInt(ctx, tx, `SELECT count(*) FROM (`+p.driver+` LIMIT `+strconv.Itoa(exportScanFrom)+`) AS m`, p.a.list)
		if err != nil {
			return err
		}
		fromDriver = n < exportScanFrom
	}
	kr := keyRow{listed: true}
	query, a, err := p.sortSQL(sort, desc, kr.columns(), fromDriver)
	if err != nil {
		return err
	}
	return eachRow(ctx, tx, func(r rowScanner) (Key, error) {
		k, err := kr.scan(r)
		if err != nil {
			return Key{}, err
		}
		return k, orgs.fill(ctx, &k)
	}, fn, query, a...)
}

// exportScanFrom is the number of candidates from which an export reads
// the whole table rather than look each candidate up by its id: a tenth
// of a million keys, read in the table's order, take as long.
const exportScanFrom = 100_000

// sortSQL is the query of an export that reads more than readCap keys:
// every match, found by reading the table in its own order, or with
// fromDriver the driver's candidates (or else the search's) by their ids,
// and put in the order of sort by SQLite's sorter, which spills to
// temporary files past a few megabytes. Walking the sort's index instead
// would read each row from a random place in the table: at a million
// keys, twice as long.
func (p *keyPlan) sortSQL(sort KeySort, desc bool, columns string, fromDriver bool) (string, []any, error) {
	a := args{list: slices.Clone(p.a.list)}
	exprs, err := p.order(&a, sort)
	if err != nil {
		return "", nil, err
	}
	from := "keys k NOT INDEXED WHERE " + p.where
	switch {
	case fromDriver:
		from = p.from(p.where)
	case p.probe != "":
		from = "keys k NOT INDEXED WHERE k.id IN (" + p.probe + ") AND " + p.where
	}
	dir := map[bool]string{false: " ASC", true: " DESC"}[desc]
	query := `SELECT ` + columns + ` FROM ` + from +
		` ORDER BY ` + strings.Join(exprs, dir+", ") + dir
	traceQuery(query, a.list)
	return query, a.list, nil
}

// mayHave reports whether keys of status st can match the plan.
func (p *keyPlan) mayHave(st Status) bool {
	return admits(p.filter.Statuses, st) && !(p.noneOff && st == StatusOrgOff)
}

// status plans the keys of the plan that have status st: its parts (and
// what they looked up) and one more, the status.
func (p *keyPlan) status(ctx context.Context, tx *sql.Tx, st Status) (*keyPlan, error) {
	sub := &keyPlan{db: p.db, text: p.text, now: p.now, filter: p.filter, noneOff: p.noneOff, orgOff: p.orgOff, a: args{list: slices.Clone(p.a.list)}}
	cond, driver := st.condition(p.noneOff)
	n, soon := sub.a.times(p.now)
	also := filterPart{cond: p.bindStatus(cond, n, soon), driver: keyDriver(p.bindStatus(driver, n, soon))}
	return sub, sub.choose(ctx, tx, append(slices.Clone(p.parts), also))
}

// walkByStatus reads a page in status order, which no index holds: one
// status after another, each in name order, each planned on its own (a
// status few keys have is read whole).
func (p *keyPlan) walkByStatus(ctx context.Context, tx *sql.Tx, r read) ([]sortedRow, error) {
	ranks := statusRanks()
	if r.desc {
		slices.Reverse(ranks)
	}
	var out []sortedRow
	for _, st := range ranks {
		if !p.mayHave(st) {
			continue
		}
		rank := int64(st)
		var cursor []any
		if r.cursor != nil {
			c, _ := r.cursor[0].(int64)
			if (!r.desc && rank < c) || (r.desc && rank > c) {
				continue // before the cursor
			}
			if rank == c {
				cursor = r.cursor[1:]
			}
		}
		sub, err := p.status(ctx, tx, st)
		if err != nil {
			return nil, err
		}
		rows, _, err := sub.rows(ctx, tx, read{sort: SortName, desc: r.desc, cursor: cursor, n: r.n - len(out)})
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			out = append(out, sortedRow{id: row.id, values: append([]any{rank}, row.values...)})
		}
		if len(out) == r.n {
			break
		}
	}
	return out, nil
}

// compareValues orders two lists of sort values as SQLite does (integers
// by value, text by bytes), reversed when desc.
func compareValues(x, y []any, desc bool) int {
	for i := range x {
		var c int
		switch xv := x[i].(type) {
		case int64:
			yv, _ := y[i].(int64)
			c = cmp.Compare(xv, yv)
		case string:
			yv, _ := y[i].(string)
			c = strings.Compare(xv, yv)
		}
		if c != 0 {
			if desc {
				return -c
			}
			return c
		}
	}
	return 0
}

// keysByRow reads the keys with these row ids, in the same order; with
// orgs, as an export does: what a list shows of them (keyListedColumns),
// reading each organization once for many keys.
func keysByRow(ctx context.Context, tx *sql.Tx, rows []sortedRow, orgs *keyOrgs) ([]Key, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	// Plain placeholders: the driver finds each named one by a search of
	// the statement's parameters, which for a page of 1,000 keys took a
	// third of the list's time.
	ids := make([]any, len(rows))
	for i, r := range rows {
		ids[i] = r.id
	}
	byRow := make(map[int64]Key, len(rows))
	columns, scan := keyColumns, func(r rowScanner) (Key, error) { return scanKey(r) }
	if orgs != nil {
		kr := keyRow{listed: true}
		columns, scan = kr.columns(), func(r rowScanner) (Key, error) {
			k, err := kr.scan(r)
			if err != nil {
				return Key{}, err
			}
			return k, orgs.fill(ctx, &k)
		}
	}
	query := `SELECT ` + columns + ` FROM keys k WHERE k.id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
	traceQuery(query, ids)
	err := eachRow(ctx, tx, scan, func(k Key) error {
		byRow[k.rowID] = k
		return nil
	}, query, ids...)
	if err != nil {
		return nil, err
	}
	keys := make([]Key, 0, len(rows))
	for _, r := range rows {
		if k, ok := byRow[r.id]; ok {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// resolveScope sets the filter's scope: the caller's, narrowed to the
// organization the filter names, which must be inside it.
func (f *KeyFilter) resolveScope(ctx context.Context, tx *sql.Tx, sc Scope) error {
	f.scope = sc
	if f.Org == "" {
		return nil
	}
	o, err := orgByID(ctx, tx, sc, f.Org)
	if ErrorCode(err) == ENOTFOUND {
		return Errorf(EINVALID, "org", "There is no such organization.")
	} else if err != nil {
		return err
	}
	f.scope = orgScope(o.ids)
	return nil
}

// Keys returns one page of the keys that q selects, in q's order.
func (s *Store) Keys(ctx context.Context, sc Scope, q KeyQuery) (KeyPage, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	now := s.now()
	// Paging backwards (and reading the last page) reads in the opposite
	// order, and reverses what it read.
	backwards := q.Before != "" || (q.Last && q.After == "")
	cursorText := q.After
	if backwards {
		cursorText = q.Before
	}
	var (
		page KeyPage
		rows []sortedRow
	)
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := q.resolveScope(ctx, tx, sc); err != nil {
			return err
		}
		p, err := s.planKeys(ctx, tx, q.KeyFilter, now)
		if err != nil {
			return err
		}
		r := read{sort: q.Sort, desc: q.Desc != backwards, n: q.Limit + 1}
		if cursorText != "" {
			// A cursor holds one value per sort expression.
			exprs, err := p.order(&args{}, q.Sort)
			if err != nil {
				return err
			}
			if r.cursor, err = decodeCursor(cursorText, len(exprs)); err != nil {
				return err
			}
		}
		counted := false
		if !p.narrow() && p.driver != "" {
			// Every part is broad, yet together they may match few keys,
			// scattered along the order: the count tells, and then they
			// are read whole rather than walked for.
			var ids string
			if page.Total, page.More, ids, err = p.countMatches(ctx, tx, true); err != nil {
				return err
			}
			counted = true
			if !page.More && page.Total <= readCap && ids != "" {
				p.whole, p.wholeIDs = true, ids
			}
		}
		var total int
		if rows, total, err = p.rows(ctx, tx, r); err != nil {
			return err
		}
		switch {
		case total >= 0:
			page.Total, page.More = min(total, CountCap), total > CountCap
		case !counted:
			if page.Total, page.More, err = p.count(ctx, tx); err != nil {
				return err
			}
		}
		more := len(rows) > q.Limit
		if more {
			rows = rows[:q.Limit]
		}
		if backwards {
			slices.Reverse(rows)
		}
		if page.Keys, err = keysByRow(ctx, tx, rows, nil); err != nil {
			return err
		}
		if len(rows) > 0 {
			first, last := encodeCursor(rows[0].values), encodeCursor(rows[len(rows)-1].values)
			switch {
			case backwards:
				if cursorText != "" { // the last page has nothing after it
					page.Next = last
				}
				if more {
					page.Prev = first
				}
			default:
				if more {
					page.Next = last
				}
				if cursorText != "" {
					page.Prev = first
				}
			}
		}
		return nil
	})
	if err != nil {
		return KeyPage{}, err
	}
	return page, nil
}

// A cursor is the sort values of the row a page ends on, so the next page
// starts right after it whatever was added or deleted meanwhile.
func encodeCursor(values []any) string {
	b, _ := json.Marshal(values) // ints and strings always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadCursor = Errorf(EINVALID, "cursor", "This page link is not valid. Start again from the first page.")

func decodeCursor(cursor string, n int) ([]any, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, errBadCursor
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var raw []any
	if err := dec.Decode(&raw); err != nil || len(raw) != n {
		return nil, errBadCursor
	}
	values := make([]any, n)
	for i, v := range raw {
		switch v := v.(type) {
		case string:
			values[i] = v
		case json.Number:
			iv, err := v.Int64()
			if err != nil {
				return nil, errBadCursor
			}
			values[i] = iv
		default:
			return nil, errBadCursor
		}
	}
	return values, nil
}

// exportChunk is how many keys EachKey reads at a time from candidates
// read whole.
const exportChunk = 1000

// EachKey calls fn for every key that f selects, in the order of sort and
// desc: the keys the list shows, read in one transaction, so that an
// export holds exactly what the list shows; memory stays flat. Each key holds what the list shows of it (keyListedColumns): not
// who changed it last (the times and names of enabling, setting the
// expiry, revoking and updating), nor its rate limit or use count. It
// returns the number of keys passed to fn.
func (s *Store) EachKey(ctx context.Context, sc Scope, f KeyFilter, sort KeySort, desc bool, fn func(Key) error) (int, error) {
	now := s.now()
	n := 0
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := f.resolveScope(ctx, tx, sc); err != nil {
			return err
		}
		p, err := s.planKeys(ctx, tx, f, now)
		if err != nil {
			return err
		}
		// Each key's organization is read once per organization, not per row.
		orgs, err := readKeyOrgs(ctx, tx)
		if err != nil {
			return err
		}
		return p.each(ctx, tx, sort, desc, orgs, func(k Key) error {
			n++
			return fn(k)
		})
	})
	if err != nil {
		return n, fmt.Errorf("store: list keys: %w", err)
	}
	return n, nil
}

// KeyCreators returns the usernames that created keys, sorted.
func (s *Store) KeyCreators(ctx context.Context, sc Scope) ([]string, error) {
	return s.distinctValues(ctx, sc, "keys", "created_by", "org_id")
}

// grantingNames lists a permission and the wildcards that would grant it:
// a:b:c, then a:b:* and a:*.
func grantingNames(permission string) []string {
	names := []string{permission}
	for i := len(permission) - 1; i > 0; i-- {
		if permission[i] == ':' && i < len(permission)-1 {
			names = append(names, permission[:i+1]+"*")
		}
	}
	return names
}
