package store

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EventActions lists every action, in the order the console offers them.
var EventActions = []string{
	ActionKeyCreated, ActionKeyCopied, ActionKeyEnabled, ActionKeyDisabled, ActionKeyExpirySet,
	ActionKeyExpiryClear, ActionKeyExpired, ActionKeyRenamed, ActionKeyRateLimitSet, ActionKeyRotated, ActionKeyGraceEnded, ActionKeyRevealed, ActionKeyScheduleSet, ActionKeyRevoked, ActionKeyDeleted, ActionKeysExported,
	ActionUserCreated, ActionUserRoleChanged, ActionUserMoved, ActionUserDisabled, ActionUserEnabled, ActionUserDeleted,
	ActionPasswordChanged, ActionPasswordReset, ActionUserUnlocked, ActionRoleCreated, ActionRoleUpdated, ActionRoleDeleted,
	ActionLoginSucceeded, ActionLoginFailed, ActionLogout, ActionAccessDenied,
	ActionSettingsChanged, ActionPermissionCreated, ActionPermissionDeleted, ActionEventsExported, ActionEventsPruned,
	ActionOrgCreated, ActionOrgUpdated, ActionOrgDeleted, ActionOrgPolicyChanged,
	ActionKeyUsageSpike, ActionOrgRefusalsSpike, ActionActivityExported, ActionTokenCreated, ActionTokenRevoked,
	ActionNoticesChanged, ActionCalendarCreated, ActionCalendarRevoked, ActionWebhookCreated, ActionWebhookTested, ActionWebhookResent, ActionWebhookDeleted,
}

// EventFilter selects events. The zero value selects all.
type EventFilter struct {
	Search     string // words of the actor, action or target, each matched as a prefix
	Action     string
	Actor      string
	TargetType string
	TargetID   string
	From, To   time.Time // events at or after From and before To; zero for no bound

	scope Scope // the caller's: events of organizations outside it do not exist
}

// EventQuery is a page of the audit log, newest first. Before and After are
// event ids from a previous page; at most one is set. Count asks for the
// number of events that match too, counted up to EventCountLimit.
type EventQuery struct {
	EventFilter
	Before int64
	After  int64
	Limit  int
	Count  bool
}

// EventCountLimit is how far the audit log counts the events that match:
// beyond it the page says "more than", rather than read a million rows to
// say how many.
const EventCountLimit = 10_000

// broadSearch is the number of search matches above which the audit log
// walks its order instead of sorting every match.
var broadSearch = 5000

// EventPage is one page of events and the cursors beside it (0 for none).
type EventPage struct {
	Events []Event
	Next   int64 // Before of the next (older) page
	Prev   int64 // After of the previous (newer) page
	// Total is the number of events that match, when the query asked for
	// it; More is set instead when there are more than EventCountLimit.
	Total int
	More  bool
}

// where builds the condition of f inside tx, and returns with it the
// number of events the search matches (-1 without a search). Dates become
// a range of ids, which every index serves in order; the at test keeps it
// exact.
//
// One index leads each query, walking the log newest first. A search that
// matches few events leads: the others are only tested on its matches
// (an expression of each column keeps SQLite from using their indexes,
// which would mean sorting). A search that matches many is only tested, on the events of the
// action, actor or target asked for; alone, it leads still, through the
// ordered list of its matches.
func (f EventFilter) where(ctx context.Context, tx *sql.Tx, idx textIndex, a *args) (string, int, error) {
	if f.Action != "" && !slices.Contains(EventActions, f.Action) {
		return "", 0, Errorf(EINVALID, "action", "There is no event action %q.", f.Action)
	}
	conds := []string{f.scope.orgCondition(a, "e.org_id")}
	// A column that is only tested is read through an expression, which no
	// index holds: SQLite then leaves its index alone.
	matches, tested := -1, func(column string) string { return column }
	if words := searchWords(f.Search); len(words) > 0 {
		match := idx.eventQuery(words)
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (`+idx.eventsMatching("?")+`) AS m`, match).Scan(&matches); err != nil {
			return "", 0, err
		}
		in := "e.id IN"
		if matches <= broadSearch || !f.indexed() {
			tested = func(column string) string { return "(" + column + " || '')" }
		} else {
			in = "e.id + 0 IN"
		}
		conds = append(conds, in+" ("+idx.eventsMatching(a.add(match))+")")
	}
	if f.Action != "" {
		conds = append(conds, tested("e.action")+" = "+a.add(f.Action))
	}
	if f.Actor != "" {
		conds = append(conds, tested("e.actor_username")+" = "+a.add(strings.ToLower(f.Actor)))
	}
	if f.TargetType != "" {
		conds = append(conds, tested("e.target_type")+" = "+a.add(f.TargetType)+" AND "+tested("e.target_id")+" = "+a.add(f.TargetID))
	}
	if !f.From.IsZero() || !f.To.IsZero() {
		if !f.From.IsZero() {
			conds = append(conds, "e.at >= "+a.add(f.From.Unix()))
		}
		if !f.To.IsZero() {
			conds = append(conds, "e.at < "+a.add(f.To.Unix()))
		}
		// The ids of the events in the window bound those of the matches,
		// which every index serves in order.
		lo, hi, found, err := eventWindow(ctx, tx, f.From, f.To)
		switch {
		case err != nil:
			return "", 0, err
		case !found:
			conds = append(conds, "FALSE") // no event at all in the window
		default:
			if lo > 0 {
				conds = append(conds, "e.id >= "+a.add(lo))
			}
			if hi > 0 {
				conds = append(conds, "e.id <= "+a.add(hi))
			}
		}
	}
	return strings.Join(conds, " AND "), matches, nil
}

// eventMark is the last event before a write: its id and time.
type eventMark struct{ id, at int64 }

// markEvents reads the last event, at the start of a write transaction.
func markEvents(ctx context.Context, tx *sql.Tx) (eventMark, error) {
	var m eventMark
	err := tx.QueryRowContext(ctx, `SELECT id, at FROM events ORDER BY id DESC LIMIT 1`).Scan(&m.id, &m.at)
	if err == sql.ErrNoRows {
		return eventMark{}, nil
	}
	return m, err
}

// keepEventOrder ends, for good, the log's being in time order (see
// migration 019) when an event written since mark is older than the one
// before it. It reads only the events written since mark, once per write
// transaction: a trigger, run for each event, made a bulk action over
// 88,000 keys 3 s slower.
func keepEventOrder(ctx context.Context, tx *sql.Tx, mark eventMark) error {
	_, err := tx.ExecContext(ctx, `UPDATE event_order SET in_order = 0 WHERE in_order = 1 AND EXISTS (
		SELECT 1 FROM (SELECT at, lag(at, 1, ?) OVER (ORDER BY id) AS before FROM events WHERE id > ?) AS written WHERE at < before)`, mark.at, mark.id)
	return err
}

// eventWindow returns bounds of the ids of the events at or after from
// and before to (a zero time: no bound; a bound 0: none), and whether any
// event is in the window. While the log's times go up with its ids (see
// migration 019), each bound is one probe of the index of times; else the
// window's events are read for their smallest and largest ids.
func eventWindow(ctx context.Context, tx *sql.Tx, from, to time.Time) (lo, hi int64, found bool, err error) {
	var inOrder bool
	if err := tx.QueryRowContext(ctx, `SELECT in_order FROM event_order`).Scan(&inOrder); err != nil {
		return 0, 0, false, err
	}
	if !inOrder {
		var window []string
		var bounds []any
		if !from.IsZero() {
			window, bounds = append(window, "at >= ?"), append(bounds, from.Unix())
		}
		if !to.IsZero() {
			window, bounds = append(window, "at < ?"), append(bounds, to.Unix())
		}
		var first, last sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT min(id), max(id) FROM events WHERE `+strings.Join(window, " AND "), bounds...).Scan(&first, &last)
		return first.Int64, last.Int64, first.Valid, err
	}
	probe := func(query string, at int64) (int64, bool, error) {
		var id int64
		err := tx.QueryRowContext(ctx, query, at).Scan(&id)
		if err == sql.ErrNoRows {
			return 0, false, nil
		}
		return id, err == nil, err
	}
	found = true
	if !from.IsZero() {
		if lo, found, err = probe(`SELECT id FROM events INDEXED BY events_by_at WHERE at >= ? ORDER BY at, id LIMIT 1`, from.Unix()); err != nil || !found {
			return 0, 0, false, err
		}
	}
	if !to.IsZero() {
		if hi, found, err = probe(`SELECT id FROM events INDEXED BY events_by_at WHERE at < ? ORDER BY at DESC, id DESC LIMIT 1`, to.Unix()); err != nil || !found {
			return 0, 0, false, err
		}
	}
	return lo, hi, lo == 0 || hi == 0 || lo <= hi, nil
}

// indexed reports whether f names an action, actor or target: each has an
// index of its events in the log's order.
func (f EventFilter) indexed() bool {
	return f.Action != "" || f.Actor != "" || f.TargetType != ""
}

// eventQueries is the SQL of one page of the audit log and of its count.
type eventQueries struct {
	page      string
	pageArgs  []any
	count     string // empty when searchMatches is the count
	countArgs []any
	// searchMatches is the number of events a search that is the whole
	// filter matches, or -1.
	searchMatches int
}

// sql builds the queries of q inside tx.
func (q EventQuery) sql(ctx context.Context, tx *sql.Tx, idx textIndex) (eventQueries, error) {
	var a args
	where, matches, err := q.where(ctx, tx, idx, &a)
	if err != nil {
		return eventQueries{}, err
	}
	eq := eventQueries{searchMatches: -1}
	if matches >= 0 && !q.indexed() && q.From.IsZero() && q.To.IsZero() && q.scope.Whole() {
		eq.searchMatches = matches // the search is the whole filter: its index has one row per event
	} else {
		// The count reads at most one row past the limit, whatever matches.
		eq.count = `SELECT count(*) FROM (SELECT 1 FROM events e WHERE ` + where +
			` LIMIT ` + strconv.Itoa(EventCountLimit+1) + `) AS m`
		eq.countArgs = slices.Clone(a.list)
	}
	order := "DESC"
	switch {
	case q.Before > 0:
		where += " AND e.id < " + a.add(q.Before)
	case q.After > 0:
		// The newer page: read upwards from the cursor, then turn it round.
		where += " AND e.id > " + a.add(q.After)
		order = "ASC"
	}
	eq.page = `SELECT ` + eventColumns + ` FROM events e WHERE ` + where +
		` ORDER BY e.id ` + order + ` LIMIT ` + strconv.Itoa(q.Limit+1)
	eq.pageArgs = a.list
	return eq, nil
}

// Events returns one page of the events that q selects, newest first.
func (s *Store) Events(ctx context.Context, sc Scope, q EventQuery) (EventPage, error) {
	q.scope = sc
	if q.Limit <= 0 {
		q.Limit = 50
	}
	var page EventPage
	err := s.read(ctx, func(tx *sql.Tx) error {
		eq, err := q.sql(ctx, tx, s.text)
		if err != nil {
			return err
		}
		if page.Events, err = allRows(ctx, tx, scanEvent, eq.page, eq.pageArgs...); err != nil {
			return err
		}
		if !q.Count {
			return nil
		}
		page.Total = eq.searchMatches
		if eq.count != "" {
			if err := tx.QueryRowContext(ctx, eq.count, eq.countArgs...).Scan(&page.Total); err != nil {
				return err
			}
		}
		if page.Total > EventCountLimit {
			page.Total, page.More = EventCountLimit, true
		}
		return nil
	})
	if err != nil {
		return EventPage{}, err
	}
	more := len(page.Events) > q.Limit
	if more {
		page.Events = page.Events[:q.Limit]
	}
	if q.After > 0 {
		slices.Reverse(page.Events)
	}
	if n := len(page.Events); n > 0 {
		newest, oldest := page.Events[0].ID, page.Events[n-1].ID
		if q.After > 0 {
			// Came back from an older page: there is one; a newer one if more.
			page.Next = oldest
			if more {
				page.Prev = newest
			}
		} else {
			if more {
				page.Next = oldest
			}
			if q.Before > 0 {
				page.Prev = newest
			}
		}
	}
	return page, nil
}

// EachEvent calls fn for every event f selects, newest first, one row at a
// time.
func (s *Store) EachEvent(ctx context.Context, sc Scope, f EventFilter, fn func(Event) error) (int, error) {
	f.scope = sc
	n := 0
	err := s.read(ctx, func(tx *sql.Tx) error {
		var a args
		where, _, err := f.where(ctx, tx, s.text, &a)
		if err != nil {
			return err
		}
		return eachRow(ctx, tx, scanEvent, func(e Event) error {
			n++
			return fn(e)
		}, `SELECT `+eventColumns+` FROM events e WHERE `+where+` ORDER BY e.id DESC`, a.list...)
	})
	return n, err
}

// EventActors returns the usernames that appear as actors, sorted.
func (s *Store) EventActors(ctx context.Context, sc Scope) ([]string, error) {
	return s.distinctValues(ctx, sc, "events", "actor_username", "org_id")
}
