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

// outcomeOf is the index of a verification's code ("" for valid) in
// UsageOutcomes; an unknown code counts as the last, so that a new code
// added without an outcome still counts as a refusal.
func outcomeOf(code string) int {
	if code == "" {
		return 0
	}
	for i := 1; i < numOutcomes; i++ {
		if UsageOutcomes[i] == code {
			return i
		}
	}
	return numOutcomes - 1
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

// forget drops what was counted for an organization that was deleted.
func (r *refusals) forget(org int64) {
	r.mu.Lock()
	delete(r.byOrg, org)
	r.mu.Unlock()
}

// forgetOrgUsage deletes the refusals counted for an organization, and
// its spikes, inside the transaction that deletes it.
func forgetOrgUsage(ctx context.Context, tx *sql.Tx, org int64) error {
	for _, table := range []string{"org_refusals_hourly", "org_refusals_daily"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE org_id = ?`, org); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM usage_spikes WHERE subject = ?`, spikeSubject("org", org))
	return err
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
// the last seconds of an hour may count in the next); and the access
// tokens' last uses.
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
	tokens := s.tokenUses.take()
	if len(keys) == 0 && len(orgs) == 0 && len(tokens) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		hour, day := hourOf(now), dayOf(now)
		used, err := tx.PrepareContext(ctx, `UPDATE keys SET use_count = use_count + ?1, uses_24h = uses_24h + ?1,
			last_used_at = CASE WHEN coalesce(last_used_at, 0) > ?2 THEN last_used_at ELSE ?2 END WHERE id = ?3`)
		if err != nil {
			return err
		}
		defer used.Close()
		add := func(table, column string, list []pending) error {
			upsert := func(table, bucket string) (*sql.Stmt, error) {
				return tx.PrepareContext(ctx, `INSERT INTO `+table+` (`+column+`, `+bucket+`, outcome, count) VALUES (?, ?, ?, ?)
					ON CONFLICT (`+column+`, `+bucket+`, outcome) DO UPDATE SET count = `+table+`.count + excluded.count`)
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
		for row, at := range tokens {
			if _, err := tx.ExecContext(ctx, `UPDATE access_tokens SET last_used_at = CASE WHEN coalesce(last_used_at, 0) > ?1 THEN last_used_at ELSE ?1 END WHERE id = ?2`, at, row); err != nil {
				return err
			}
		}
		return add("org_refusals", "org_id", orgs)
	})
	if err != nil {
		// Put the counts back for the next try.
		for _, p := range append(keys, orgs...) {
			p.u.putBack(p.counts)
		}
		s.tokenUses.putBack(tokens)
	}
	return err
}

// PruneUsage deletes the hourly usage older than UsageHourlyFor, the daily
// usage older than UsageDailyFor, the spikes older than a week, and once a
// day the usage of keys deleted since, and says how many rows went.
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
			{`DELETE FROM usage_spikes WHERE day < ?`, []any{dayOf(now.Add(-SpikeWeek))}},
		} {
			res, err := tx.ExecContext(ctx, q.query, q.args...)
			if err != nil {
				return err
			}
			m, _ := res.RowsAffected()
			n += m
		}
		// The counts of deleted keys, once a day: it reads both tables.
		swept, ok, err := jobMark(ctx, tx, usageSweepMark)
		if err != nil || (ok && swept == dayOf(now)) {
			return err
		}
		for _, q := range []string{
			`DELETE FROM key_usage_hourly WHERE key_id NOT IN (SELECT id FROM keys)`,
			`DELETE FROM key_usage_daily WHERE key_id NOT IN (SELECT id FROM keys)`,
		} {
			res, err := tx.ExecContext(ctx, q)
			if err != nil {
				return err
			}
			m, _ := res.RowsAffected()
			n += m
		}
		return setJobMark(ctx, tx, usageSweepMark, dayOf(now))
	})
	return int(n), err
}

// usageSweepMark names, in the jobs table, the day the counts of deleted
// keys were last swept.
const usageSweepMark = "usage-sweep"

// usageWindowMark names, in the jobs table, the hour the keys' uses_24h
// were last counted again from the hourly counts.
const usageWindowMark = "usage-window"

// SlideUsageWindow counts each key's valid verifications of the last 24
// hours again from the hourly counts, once an hour: the flush adds to
// them as they come, and this takes off the hours that left. Counting
// again rather than taking off keeps the figure right whatever happened
// in between (a stop, a run as of another day). It reads the keys with
// a count only, and says how many changed.
func (s *Store) SlideUsageWindow(ctx context.Context) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		hour := hourOf(now)
		if last, ok, err := jobMark(ctx, tx, usageWindowMark); err != nil || (ok && last == hour) {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE keys INDEXED BY keys_by_uses_24h SET uses_24h = (SELECT coalesce(sum(u.count), 0)
			FROM key_usage_hourly u WHERE u.key_id = keys.id AND u.hour >= ? AND u.outcome = 0) WHERE uses_24h > 0`, hour-23*3600)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return setJobMark(ctx, tx, usageWindowMark, hour)
	})
	return int(n), err
}
