package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// OutcomeValid names a verification that passed, among the refusal codes.
const OutcomeValid = "VALID"

// UsageOutcomes are what verifications are counted as: passed, rate
// limited, or refused with each code. The usage tables store the index:
// the list only grows.
var UsageOutcomes = [...]string{
	OutcomeValid, CodeRateLimited, CodeNotFound, CodeMalformed, CodeRevoked, CodeExpired,
	CodeDisabled, CodeOrgDisabled, CodeWrongOrg, CodePermissionDenied,
}

const numOutcomes = len(UsageOutcomes)

// outcomeOf is the index of a verification's code ("" for valid).
func outcomeOf(code string) int {
	switch code {
	case "":
		return 0
	case CodeRateLimited:
		return 1
	case CodeNotFound:
		return 2
	case CodeMalformed:
		return 3
	case CodeRevoked:
		return 4
	case CodeExpired:
		return 5
	case CodeDisabled:
		return 6
	case CodeOrgDisabled:
		return 7
	case CodeWrongOrg:
		return 8
	}
	return 9 // CodePermissionDenied
}

// How long usage is kept, by hour and by day.
const (
	UsageHourlyFor = 14 * 24 * time.Hour
	UsageDailyFor  = 400 * 24 * time.Hour
)

// usage counts a key's verifications between two writes to the
// database, by outcome.
type usage struct {
	counts [numOutcomes]atomic.Int64
	last   atomic.Int64 // Unix nanoseconds of the last valid one
}

// count records one verification of the key.
func (u *usage) count(code string, now time.Time) {
	u.counts[outcomeOf(code)].Add(1)
	if code == "" {
		u.last.Store(now.UnixNano())
	}
}

// take empties the counters and returns what they held, and whether
// anything.
func (u *usage) take() (counts [numOutcomes]int64, any bool) {
	for i := range u.counts {
		if n := u.counts[i].Swap(0); n > 0 {
			counts[i], any = n, true
		}
	}
	return counts, any
}

// putBack adds counts taken by a flush that failed.
func (u *usage) putBack(counts [numOutcomes]int64) {
	for i, n := range counts {
		u.counts[i].Add(n)
	}
}

// refusals counts the verifications that found no key (not found,
// malformed), by the row id of the organization the request asked about.
type refusals struct {
	mu    sync.RWMutex
	byOrg map[int64]*usage
}

func (r *refusals) of(org int64) *usage {
	r.mu.RLock()
	u := r.byOrg[org]
	r.mu.RUnlock()
	if u != nil {
		return u
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byOrg == nil {
		r.byOrg = map[int64]*usage{}
	}
	if u = r.byOrg[org]; u == nil {
		u = &usage{}
		r.byOrg[org] = u
	}
	return u
}

// countRefusal counts a verification that found no key, for the
// organization the request named (its public id; the root when it named
// none or one that does not exist).
func (s *Store) countRefusal(org, code string) {
	row := RootOrg
	if org != "" {
		if x, err := s.orgs.get(); err == nil {
			if o := x.byID[org]; o != nil {
				row = o.row
			}
		}
	}
	s.refusals.of(row).count(code, time.Time{})
}

// hourOf and dayOf are the starts of t's hour and day, in Unix seconds.
func hourOf(t time.Time) int64 { return t.Unix() - t.Unix()%3600 }
func dayOf(t time.Time) int64  { return t.Unix() - t.Unix()%86400 }

// FlushUsage writes the verifications counted since the last flush: one
// transaction, adding to each key's use count and last use, and to the
// usage tables, by the hour and day of the flush (so a verification in
// the last seconds of an hour may count in the next).
func (s *Store) FlushUsage(ctx context.Context) error {
	type pending struct {
		row    int64
		counts [numOutcomes]int64
		last   int64
		u      *usage
	}
	var keys, orgs []pending
	s.cache.mu.RLock()
	for row, u := range s.cache.usage {
		if counts, any := u.take(); any {
			keys = append(keys, pending{row: row, counts: counts, last: u.last.Load(), u: u})
		}
	}
	s.cache.mu.RUnlock()
	s.refusals.mu.RLock()
	for row, u := range s.refusals.byOrg {
		if counts, any := u.take(); any {
			orgs = append(orgs, pending{row: row, counts: counts, u: u})
		}
	}
	s.refusals.mu.RUnlock()
	if len(keys) == 0 && len(orgs) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		hour, day := hourOf(now), dayOf(now)
		used, err := tx.PrepareContext(ctx, `UPDATE keys SET use_count = use_count + ?1, uses_24h = uses_24h + ?1,
			last_used_at = max(coalesce(last_used_at, 0), ?2) WHERE id = ?3`)
		if err != nil {
			return err
		}
		defer used.Close()
		add := func(table, column string, list []pending) error {
			upsert := func(table, bucket string) (*sql.Stmt, error) {
				return tx.PrepareContext(ctx, `INSERT INTO `+table+` (`+column+`, `+bucket+`, outcome, count) VALUES (?, ?, ?, ?)
					ON CONFLICT DO UPDATE SET count = count + excluded.count`)
			}
			hourly, err := upsert(table+"_hourly", "hour")
			if err != nil {
				return err
			}
			defer hourly.Close()
			daily, err := upsert(table+"_daily", "day")
			if err != nil {
				return err
			}
			defer daily.Close()
			for _, p := range list {
				for outcome, n := range p.counts {
					if n == 0 {
						continue
					}
					if _, err := hourly.ExecContext(ctx, p.row, hour, outcome, n); err != nil {
						return err
					}
					if _, err := daily.ExecContext(ctx, p.row, day, outcome, n); err != nil {
						return err
					}
				}
			}
			return nil
		}
		for _, p := range keys {
			if n := p.counts[0]; n > 0 {
				if _, err := used.ExecContext(ctx, n, time.Unix(0, p.last).Unix(), p.row); err != nil {
					return err
				}
			}
		}
		if err := add("key_usage", "key_id", keys); err != nil {
			return err
		}
		return add("org_refusals", "org_id", orgs)
	})
	if err != nil {
		// Put the counts back for the next try.
		for _, p := range append(keys, orgs...) {
			p.u.putBack(p.counts)
		}
	}
	return err
}

// PruneUsage deletes the hourly usage older than UsageHourlyFor, the daily
// usage older than UsageDailyFor, and the usage of keys deleted since, and
// says how many rows went.
func (s *Store) PruneUsage(ctx context.Context) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		hour, day := hourOf(now.Add(-UsageHourlyFor)), dayOf(now.Add(-UsageDailyFor))
		for _, q := range []struct {
			query string
			args  []any
		}{
			{`DELETE FROM key_usage_hourly WHERE hour < ?`, []any{hour}},
			{`DELETE FROM org_refusals_hourly WHERE hour < ?`, []any{hour}},
			{`DELETE FROM key_usage_daily WHERE day < ?`, []any{day}},
			{`DELETE FROM org_refusals_daily WHERE day < ?`, []any{day}},
			{`DELETE FROM key_usage_hourly WHERE key_id NOT IN (SELECT id FROM keys)`, nil},
			{`DELETE FROM key_usage_daily WHERE key_id NOT IN (SELECT id FROM keys)`, nil},
		} {
			res, err := tx.ExecContext(ctx, q.query, q.args...)
			if err != nil {
				return err
			}
			m, _ := res.RowsAffected()
			n += m
		}
		return nil
	})
	return int(n), err
}

// usageWindowMark names, in the jobs table, the start of the last 24
// hours as the keys' uses_24h last counted them.
const usageWindowMark = "usage-window"

// SlideUsageWindow takes off each key's uses of the last 24 hours those
// of the hours that have left them since the last run (all of them at
// once after a stop), and says how many keys changed. The first run
// starts the window where it is.
func (s *Store) SlideUsageWindow(ctx context.Context) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		start := hourOf(now) - 23*3600
		from, ok, err := jobMark(ctx, tx, usageWindowMark)
		if err != nil {
			return err
		}
		if ok && from < start {
			res, err := tx.ExecContext(ctx, `UPDATE keys SET uses_24h = max(0, uses_24h - (SELECT coalesce(sum(u.count), 0)
				FROM key_usage_hourly u WHERE u.key_id = keys.id AND u.hour >= ?1 AND u.hour < ?2 AND u.outcome = 0))
				WHERE id IN (SELECT key_id FROM key_usage_hourly INDEXED BY key_usage_hourly_by_hour WHERE hour >= ?1 AND hour < ?2 AND outcome = 0)`,
				from, start)
			if err != nil {
				return err
			}
			n, _ = res.RowsAffected()
		}
		if ok && from >= start {
			return nil
		}
		return setJobMark(ctx, tx, usageWindowMark, start)
	})
	return int(n), err
}
