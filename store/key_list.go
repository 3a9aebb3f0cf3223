package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
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
)

// keySortExprs maps each sort to the SQL expression it orders by. Every
// expression but status's is a column with an index in the schema; name_sort
// (the natural order of names) and id break ties. statusRank needs the clock and is built per query.
var keySortExprs = map[KeySort]string{
	SortName:        "k.name_sort",
	SortPermissions: "k.permissions",
	SortEnabled:     "k.enabled",
	SortExpires:     "k.expires_sort",
	SortCreatedBy:   "k.created_by",
	SortCreated:     "k.created_at",
	SortLastUsed:    "k.last_used_sort",
	SortUses:        "k.use_count",
	SortStatus:      "", // see statusRank
}

// ValidKeySort reports whether s names a sort order.
func ValidKeySort(s KeySort) bool {
	_, ok := keySortExprs[s]
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
	// broadScope marks a scope that holds many keys: like a broad search,
	// a page of them is found faster by walking the sort order.
	broadScope bool

	// broad marks a search that matches many keys. A page of those is
	// found faster by walking the sort order and testing each key against
	// the search than by sorting every match.
	broad bool
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

// KeyPage is one page of keys, the number of keys that match in all, and the
// cursors of the pages beside it ("" where there is none).
type KeyPage struct {
	Keys  []Key
	Total int
	Next  string
	Prev  string
}

// args collects named SQL parameters; add returns the placeholder for one.
type args struct{ list []any }

func (a *args) add(v any) string {
	name := "p" + strconv.Itoa(len(a.list)+1)
	a.list = append(a.list, sql.Named(name, v))
	return ":" + name
}

// where builds the WHERE clause (without the keyword) for f at now. The
// clause is made of fixed SQL and placeholders only; every value is bound.
func (f KeyFilter) where(a *args, now time.Time) (string, error) {
	scope := f.scope.orgCondition(a, "k.org_id")
	if f.broadScope {
		scope = "+" + scope // walk the sort's index, testing each key's organization
	}
	conds := []string{scope}
	if q := strings.TrimSpace(f.Search); q != "" {
		match, short := searchQuery(q)
		if match != "" {
			in := "k.id IN"
			if f.broad {
				in = "+k.id IN" // the unary plus keeps SQLite from driving the query by the search
			}
			conds = append(conds, in+" (SELECT docid FROM key_search WHERE key_search MATCH "+a.add(match)+")")
		}
		for _, w := range short {
			p := a.add(likePattern(w))
			conds = append(conds, "(k.name_fold LIKE "+p+` ESCAPE '\' OR k.created_by LIKE `+p+` ESCAPE '\')`)
		}
		if match == "" && len(short) == 0 {
			// Only punctuation: match it literally in names.
			conds = append(conds, "k.name_fold LIKE "+a.add(likePattern(foldName(q)))+` ESCAPE '\'`)
		}
	}
	if len(f.Statuses) > 0 {
		n, soon := a.add(now.Unix()), a.add(now.Add(SoonWindow).Unix())
		var any []string
		for _, st := range f.Statuses {
			cond, ok := st.sql()
			if !ok {
				return "", Errorf(EINVALID, "status", "There is no status filter %q.", st)
			}
			any = append(any, bindTimes(cond, n, soon))
		}
		conds = append(conds, "("+strings.Join(any, " OR ")+")")
	}
	if f.Permission != "" {
		// A probe of the primary key per row: cheaper than listing every key
		// that has a common permission.
		conds = append(conds, "EXISTS (SELECT 1 FROM key_permissions kp WHERE kp.key_id = k.id AND kp.permission = "+a.add(f.Permission)+")")
	}
	if f.CreatedBy != "" {
		conds = append(conds, "k.created_by = "+a.add(f.CreatedBy))
	}
	return strings.Join(conds, " AND "), nil
}

// statusRank orders keys as their Status does.
func statusRank(a *args, now time.Time) string {
	return bindTimes(statusRankSQL(), a.add(now.Unix()), a.add(now.Add(SoonWindow).Unix()))
}

// bindTimes puts the placeholders of now and of the end of the soon window
// into a status condition.
func bindTimes(cond, now, soon string) string {
	return strings.NewReplacer("{now}", now, "{soon}", soon).Replace(cond)
}

// order returns the sort expressions of q: the sort's own, then the
// tie-breakers.
func (q KeyQuery) order(a *args, now time.Time) ([]string, error) {
	expr, ok := keySortExprs[q.Sort]
	if !ok {
		return nil, Errorf(EINVALID, "sort", "The list cannot be sorted by %q.", q.Sort)
	}
	if q.Sort == SortStatus {
		expr = statusRank(a, now)
	}
	if q.Sort == SortName {
		return []string{"k.name_sort", "k.id"}, nil
	}
	return []string{expr, "k.name_sort", "k.id"}, nil
}

// broadSearch is the number of matches above which a search counts as broad.
var broadSearch = 5000

// searchMatches returns how many keys the indexed words of a search match,
// or -1 when the search has no indexed word.
func searchMatches(ctx context.Context, tx *sql.Tx, search string) (int, error) {
	match, _ := searchQuery(strings.TrimSpace(search))
	if match == "" {
		return -1, nil
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM key_search WHERE key_search MATCH ?`, match).Scan(&n)
	return n, err
}

// searchOnly reports whether the search is the whole filter, and is all
// served by the index.
func (f KeyFilter) searchOnly() bool {
	_, short := searchQuery(strings.TrimSpace(f.Search))
	return len(short) == 0 && len(f.Statuses) == 0 && f.Permission == "" && f.CreatedBy == "" && f.scope.Whole()
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

// pageQuery is the SQL of one page of the key list and of its count.
type pageQuery struct {
	page      string
	pageArgs  []any
	exprs     []string // the sort expressions, read back for the cursors
	count     string
	countArgs []any
	backwards bool   // reading before a cursor, in the opposite order
	cursor    string // the cursor read from, if any
}

// sql builds the queries of q at now.
func (q KeyQuery) sql(now time.Time) (pageQuery, error) {
	var ca args
	countFilter := q.KeyFilter
	countFilter.broad = false // counting every match is fastest driven by the search
	filter, err := countFilter.where(&ca, now)
	if err != nil {
		return pageQuery{}, err
	}
	var a args
	where, err := q.where(&a, now)
	if err != nil {
		return pageQuery{}, err
	}
	exprs, err := q.order(&a, now)
	if err != nil {
		return pageQuery{}, err
	}
	pq := pageQuery{exprs: exprs, count: `SELECT count(*) FROM keys k WHERE ` + filter, countArgs: ca.list}
	// Paging backwards (and reading the last page) reads in the opposite
	// order; Keys reverses the result.
	pq.backwards = q.Before != "" || (q.Last && q.After == "")
	pq.cursor = q.After
	if pq.backwards {
		pq.cursor = q.Before
	}
	desc := q.Desc != pq.backwards
	if pq.cursor != "" {
		values, err := decodeCursor(pq.cursor, len(exprs))
		if err != nil {
			return pageQuery{}, err
		}
		holders := make([]string, len(values))
		for i, v := range values {
			holders[i] = a.add(v)
		}
		op := ">"
		if desc {
			op = "<"
		}
		where += " AND (" + strings.Join(exprs, ", ") + ") " + op + " (" + strings.Join(holders, ", ") + ")"
	}
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	pq.page = `SELECT ` + keyColumns + `, ` + strings.Join(exprs, ", ") + ` FROM keys k WHERE ` + where +
		` ORDER BY ` + strings.Join(exprs, dir+", ") + dir + ` LIMIT ` + strconv.Itoa(q.Limit+1)
	pq.pageArgs = a.list
	return pq, nil
}

// Keys returns one page of the keys that q selects, in q's order.
func (s *Store) Keys(ctx context.Context, sc Scope, q KeyQuery) (KeyPage, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	now := s.now()
	var (
		page       KeyPage
		sortValues [][]any
		pq         pageQuery
	)
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := q.resolveScope(ctx, tx, sc); err != nil {
			return err
		}
		matches, err := searchMatches(ctx, tx, q.Search)
		if err != nil {
			return err
		}
		q.broad = matches > broadSearch
		if !q.scope.Whole() {
			// Counting a subtree's keys reads one index range per organization.
			var inScope int
			var a args
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM keys k WHERE `+q.scope.orgCondition(&a, "k.org_id"), a.list...).Scan(&inScope); err != nil {
				return err
			}
			q.broadScope = inScope > broadSearch
		}
		if pq, err = q.sql(now); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, pq.page, pq.pageArgs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k, values, err := scanKeyWithSortValues(rows, len(pq.exprs))
			if err != nil {
				return err
			}
			page.Keys = append(page.Keys, k)
			sortValues = append(sortValues, values)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if matches >= 0 && q.searchOnly() {
			page.Total = matches // the index has one row per key
			return nil
		}
		return tx.QueryRowContext(ctx, pq.count, pq.countArgs...).Scan(&page.Total)
	})
	if err != nil {
		return KeyPage{}, err
	}
	backwards, cursor := pq.backwards, pq.cursor
	more := len(page.Keys) > q.Limit
	if more {
		page.Keys, sortValues = page.Keys[:q.Limit], sortValues[:q.Limit]
	}
	if backwards {
		slices.Reverse(page.Keys)
		slices.Reverse(sortValues)
	}
	if len(page.Keys) > 0 {
		first, last := encodeCursor(sortValues[0]), encodeCursor(sortValues[len(sortValues)-1])
		switch {
		case backwards:
			if cursor != "" { // the last page has nothing after it
				page.Next = last
			}
			if more {
				page.Prev = first
			}
		default:
			if more {
				page.Next = last
			}
			if cursor != "" {
				page.Prev = first
			}
		}
	}
	return page, nil
}

func scanKeyWithSortValues(rows *sql.Rows, n int) (Key, []any, error) {
	values := make([]any, n)
	dest := make([]any, n)
	for i := range values {
		dest[i] = &values[i]
	}
	k, err := scanKey(rows, dest...)
	return k, values, err
}

// A cursor is the sort values of the row a page ends on, so the next page
// starts right after it whatever was added or deleted meanwhile.
func encodeCursor(values []any) string {
	b, _ := json.Marshal(values) // ints and strings always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(cursor string, n int) ([]any, error) {
	invalid := Errorf(EINVALID, "cursor", "This page link is not valid. Start again from the first page.")
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, invalid
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var raw []any
	if err := dec.Decode(&raw); err != nil || len(raw) != n {
		return nil, invalid
	}
	values := make([]any, n)
	for i, v := range raw {
		switch v := v.(type) {
		case string:
			values[i] = v
		case json.Number:
			iv, err := v.Int64()
			if err != nil {
				return nil, invalid
			}
			values[i] = iv
		default:
			return nil, invalid
		}
	}
	return values, nil
}

// EachKey calls fn for every key that f selects, in the order of sort and
// desc, reading one row at a time so that memory stays flat. It returns the
// number of keys passed to fn.
func (s *Store) EachKey(ctx context.Context, sc Scope, f KeyFilter, sort KeySort, desc bool, fn func(Key) error) (int, error) {
	now := s.now()
	n := 0
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := f.resolveScope(ctx, tx, sc); err != nil {
			return err
		}
		var a args
		where, err := f.where(&a, now)
		if err != nil {
			return err
		}
		exprs, err := KeyQuery{Sort: sort}.order(&a, now)
		if err != nil {
			return err
		}
		dir := " ASC"
		if desc {
			dir = " DESC"
		}
		query := `SELECT ` + keyColumns + ` FROM keys k WHERE ` + where +
			` ORDER BY ` + strings.Join(exprs, dir+", ") + dir
		return eachRow(ctx, tx, func(r rowScanner) (Key, error) { return scanKey(r) }, func(k Key) error {
			n++
			return fn(k)
		}, query, a.list...)
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
