package store

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// A key's status, and the list's status filters, are decided from a few
// facts about it (revoked, expired, disabled, expiring soon). Each fact is
// written once below, as the Go test and the SQL condition that decide it
// together; Key.Status, the filters, the status sort and verification are
// all built from them, so that they cannot disagree.

// keyFact is one fact about a key at a time: holds decides it in Go, sql
// (and not, its negation, written so that an index can serve it) in a
// query. The SQL uses the placeholders {now} and {soon}, bound per query,
// and {orgOff}, the switched-off organizations the plan found (see
// bindStatus).
type keyFact struct {
	holds    func(k Key, now time.Time) bool
	sql, not string
	// drive, when set, is sql as a part of a status filter's drivers,
	// written so that another fact's index leads (see driverConds).
	drive string
}

// expires_sort is expires_at with "never" as the largest time, so the
// ranges below need no NULL test and can use its index.
var (
	factRevoked = keyFact{
		holds: func(k Key, _ time.Time) bool { return !k.RevokedAt.IsZero() },
		sql:   "k.revoked_at IS NOT NULL", not: "k.revoked_at IS NULL",
	}
	factExpired = keyFact{
		holds: func(k Key, now time.Time) bool { return !k.ExpiresAt.IsZero() && !k.ExpiresAt.After(now) },
		sql:   "k.expires_sort <= {now}", not: "k.expires_sort > {now}",
	}
	factDisabled = keyFact{
		holds: func(k Key, _ time.Time) bool { return !k.Enabled },
		sql:   "k.enabled = 0", not: "k.enabled != 0",
		// Beside the facts that a key is neither revoked nor expired, the
		// expiry index, which holds all three columns, lists the disabled
		// keys without a row read: the unary plus keeps SQLite from
		// leading with keys_by_enabled and reading the row of each.
		drive: "+k.enabled = 0",
	}
	factOrgOff = keyFact{
		holds: func(k Key, _ time.Time) bool { return k.OrgOff },
		sql:   "{orgOff}", not: "NOT {orgOff}",
	}
	factExpiringSoon = keyFact{
		holds: func(k Key, now time.Time) bool {
			return !k.ExpiresAt.IsZero() && !k.ExpiresAt.After(now.Add(SoonWindow))
		},
		sql: "k.expires_sort <= {soon}", not: "k.expires_sort > {soon}",
	}
)

// Status is a key's state as a badge shows it, computed from its fields and
// the clock. When several apply, the most final one wins.
type Status int

const (
	StatusAvailable Status = iota
	StatusSoon
	StatusDisabled
	StatusOrgOff // its organization has API keys switched off
	StatusExpired
	StatusRevoked
)

// statusRule is one status: the fact that makes it, its stable name (as in
// the CSV export) and what verification answers for it ("" when valid).
type statusRule struct {
	status Status
	fact   keyFact
	name   string
	code   string
}

// statusRules are the statuses from the most final down: a key has the
// first whose fact holds, and is Available when none does. The status sort
// ranks them in this order.
var statusRules = []statusRule{
	{StatusRevoked, factRevoked, "revoked", CodeRevoked},
	{StatusExpired, factExpired, "expired", CodeExpired},
	{StatusOrgOff, factOrgOff, "org_disabled", CodeOrgDisabled},
	{StatusDisabled, factDisabled, "disabled", CodeDisabled},
	{StatusSoon, factExpiringSoon, "soon_unavailable", ""},
}

var statusAvailable = statusRule{status: StatusAvailable, name: "available"}

func (st Status) rule() statusRule {
	for _, r := range statusRules {
		if r.status == st {
			return r
		}
	}
	return statusAvailable
}

// String is the status's stable name, as in the CSV export.
func (st Status) String() string { return st.rule().name }

// verifyCode is what verification answers for a key in this status, or ""
// when the key is good.
func (st Status) verifyCode() string { return st.rule().code }

// Status returns the key's status at now.
func (k Key) Status(now time.Time) Status {
	for _, r := range statusRules {
		if r.fact.holds(k, now) {
			return r.status
		}
	}
	return StatusAvailable
}

// statusRanks lists the statuses in the order of the status sort.
func statusRanks() []Status {
	ranks := []Status{StatusAvailable}
	for _, r := range statusRules {
		ranks = append(ranks, r.status)
	}
	slices.Sort(ranks)
	return ranks
}

// condition is the SQL that a key has status st (its fact, and none of the
// more final ones), and a condition an index serves that every such key
// meets: its own fact, or for Available, not expiring soon.
//
// With noneOff, as in filterRule.sql, no key is of StatusOrgOff (see
// keyPlan.mayHave), and the other statuses need not say they are not.
func (st Status) condition(noneOff bool) (cond, driver string) {
	var conds []string
	for _, r := range statusRules {
		if r.status == st {
			return strings.Join(append(conds, r.fact.sql), " AND "), r.fact.sql
		}
		if !(noneOff && r.fact.isOrgOff()) {
			conds = append(conds, r.fact.not)
		}
	}
	return strings.Join(conds, " AND "), factExpiringSoon.not
}

// admits reports whether a key of status st can match one of filters (all
// keys when there are none). A status says which fact holds and that the
// more final ones do not; when that contradicts a filter, no key of the
// status can match it.
func admits(filters []StatusFilter, st Status) bool {
	if len(filters) == 0 {
		return true
	}
	known := map[string]bool{} // the facts that st decides, by their SQL
	for _, r := range statusRules {
		known[r.fact.sql] = r.status == st
		if r.status == st {
			break
		}
	}
	decided := func(f keyFact, want bool) bool {
		holds, ok := known[f.sql]
		return ok && holds == want
	}
	for _, f := range filters {
		r := filterRules[f]
		possible := true
		for _, c := range r.all {
			possible = possible && !decided(c, false)
		}
		for _, c := range r.none {
			possible = possible && !decided(c, true)
		}
		if len(r.any) > 0 {
			anyPossible := false
			for _, c := range r.any {
				anyPossible = anyPossible || !decided(c, false)
			}
			possible = possible && anyPossible
		}
		if possible {
			return true
		}
	}
	return false
}

// statusRankSQL orders keys as their Status does, most final last.
func statusRankSQL() string {
	var b strings.Builder
	b.WriteString("(CASE")
	for _, r := range statusRules {
		b.WriteString(" WHEN " + r.fact.sql + " THEN " + strconv.Itoa(int(r.status)))
	}
	b.WriteString(" ELSE " + strconv.Itoa(int(StatusAvailable)) + " END)")
	return b.String()
}

// StatusFilter selects keys by status. Several filters select the union.
type StatusFilter string

const (
	FilterAvailable   StatusFilter = "available"   // not revoked and not expired
	FilterUnavailable StatusFilter = "unavailable" // revoked or expired
	FilterSoon        StatusFilter = "soon"        // available, expiring within SoonWindow
	FilterDisabled    StatusFilter = "disabled"    // switched off, and neither revoked nor expired
)

// StatusFilters lists the filters in the order the console shows them.
var StatusFilters = []StatusFilter{FilterAvailable, FilterUnavailable, FilterSoon, FilterDisabled}

// filterRule is a status filter as facts: a key matches when every fact of
// all holds, none of none does, and (when any is not empty) one of any
// does.
type filterRule struct {
	all, none, any []keyFact
}

var filterRules = map[StatusFilter]filterRule{
	FilterAvailable:   {none: []keyFact{factRevoked, factExpired}},
	FilterUnavailable: {any: []keyFact{factRevoked, factExpired}},
	FilterSoon:        {all: []keyFact{factExpiringSoon}, none: []keyFact{factRevoked, factExpired}},
	// Switched off by hand, or with its organization.
	FilterDisabled: {any: []keyFact{factDisabled, factOrgOff}, none: []keyFact{factRevoked, factExpired}},
}

// Matches reports whether the key is selected by the filter at now.
func (f StatusFilter) Matches(k Key, now time.Time) bool {
	r, ok := filterRules[f]
	if !ok {
		return false
	}
	for _, c := range r.all {
		if !c.holds(k, now) {
			return false
		}
	}
	for _, c := range r.none {
		if c.holds(k, now) {
			return false
		}
	}
	if len(r.any) == 0 {
		return true
	}
	for _, c := range r.any {
		if c.holds(k, now) {
			return true
		}
	}
	return false
}

// sql is the filter's condition, with keyFact's placeholders.
// With noneOff (no organization has API keys switched off) the fact that a
// key's organization is off, which cannot hold, is left out, so that an
// index can serve what is left.
func (r filterRule) sql(noneOff bool) string {
	drivers := r.driverConds(noneOff)
	if len(drivers) == 0 {
		return "FALSE"
	}
	return "(" + strings.Join(drivers, " OR ") + ")"
}

// driverConds are conditions whose union is the filter: one for each fact
// of any (or one, when any is empty), with the facts of all and none.
// Every fact is a range or an equality on a column of the key, so an index
// serves each: keys_by_expiry serves available and soon alone, its
// columns being the expiry, whether revoked and whether enabled.
func (r filterRule) driverConds(noneOff bool) []string {
	var base []string
	for _, c := range r.all {
		if noneOff && c.isOrgOff() {
			return nil
		}
		base = append(base, c.sql)
	}
	for _, c := range r.none {
		if !(noneOff && c.isOrgOff()) {
			base = append(base, c.not)
		}
	}
	if len(r.any) == 0 {
		return []string{strings.Join(base, " AND ")}
	}
	var out []string
	for _, c := range r.any {
		if noneOff && c.isOrgOff() {
			continue
		}
		cond := c.sql
		if c.drive != "" && len(base) > 0 {
			cond = c.drive
		}
		out = append(out, strings.Join(append([]string{cond}, base...), " AND "))
	}
	return out
}

func (f keyFact) isOrgOff() bool { return f.sql == factOrgOff.sql }
