package store

import (
	"context"
	"database/sql"
	"strconv"
	"time"
)

// Spike events.
const (
	ActionKeyUsageSpike    = NoticeUsageSpike // a key's hour far above its usual use
	ActionOrgRefusalsSpike = "org.refusals_spike"
)

// SpikeWeek is the span a key's usual hourly use is reckoned over.
const SpikeWeek = 7 * 24 * time.Hour

// SpikeRun says what one look for spikes found.
type SpikeRun struct {
	Keys, Orgs int
}

// DetectSpikes looks at the current hour's counts so far. A key whose
// verifications in it pass both its organization's floor and its
// multiple of the key's usual hourly use (its average over the week
// before, or over its hours since it was first used if fewer; a key never
// used before has none) raises one key.usage_spike
// event and notice a day; an organization whose refusals of no key do the
// same raises one org.refusals_spike event a day. Each is raised in the
// transaction that records it, so it is raised once, however often this
// runs and from however many processes.
func (s *Store) DetectSpikes(ctx context.Context) (SpikeRun, error) {
	var run SpikeRun
	x, err := s.orgs.get()
	if err != nil {
		return run, err
	}
	orgs := make(map[int64]Org, len(x.tree))
	lowest := DefaultSpikeFloor
	for _, o := range x.tree {
		orgs[o.rowID] = o
		_, floor := o.Effective.Spike()
		lowest = min(lowest, floor)
	}
	err = s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		run = SpikeRun{}
		hour := hourOf(now)
		d := &spikeCheck{ctx: ctx, tx: tx, now: now, hour: hour, day: dayOf(now), orgs: orgs,
			plan: &noticePlan{ctx: ctx, tx: tx, now: now, orgs: orgs, recipients: map[recipientsKey][]int64{}}}
		// The keys of this hour above the lowest floor of any organization.
		keys, err := d.busy(`SELECT key_id, sum(count) FROM key_usage_hourly WHERE hour = ? GROUP BY key_id HAVING sum(count) > ?`, hour, lowest)
		if err != nil {
			return err
		}
		for _, b := range keys {
			raised, err := d.key(s, b)
			if err != nil {
				return err
			}
			if raised {
				run.Keys++
			}
		}
		byOrg, err := d.busy(`SELECT org_id, sum(count) FROM org_refusals_hourly WHERE hour = ? GROUP BY org_id HAVING sum(count) > ?`, hour, lowest)
		if err != nil {
			return err
		}
		for _, b := range byOrg {
			raised, err := d.org(s, b)
			if err != nil {
				return err
			}
			if raised {
				run.Orgs++
			}
		}
		return nil
	})
	return run, err
}

// spikeCheck is one DetectSpikes, in its transaction.
type spikeCheck struct {
	ctx       context.Context
	tx        *sql.Tx
	now       time.Time
	hour, day int64
	orgs      map[int64]Org
	plan      *noticePlan
}

// busyRow is a key's or an organization's count in the hour.
type busyRow struct{ row, count int64 }

func (d *spikeCheck) busy(query string, args ...any) ([]busyRow, error) {
	return allRows(d.ctx, d.tx, func(r rowScanner) (busyRow, error) {
		var b busyRow
		return b, r.Scan(&b.row, &b.count)
	}, query, args...)
}

// history is a key's or an organization's counts over the week before
// the hour: their sum, and how many hours it spans, from the first one
// with any count (a key a day old has a day's history); 0 hours for none.
type history struct{ sum, hours int64 }

// usual is the average hourly count of the history.
func (h history) usual() int64 {
	if h.hours == 0 {
		return 0
	}
	return h.sum / h.hours
}

// history reads the query's sum and first hour over the week before the
// hour.
func (d *spikeCheck) history(query string, row int64) (history, error) {
	var h history
	var first sql.NullInt64
	err := d.tx.QueryRowContext(d.ctx, query, row, d.hour-int64(SpikeWeek/time.Second), d.hour).Scan(&h.sum, &first)
	if first.Valid {
		h.hours = (d.hour - first.Int64) / 3600
	}
	return h, err
}

// spiking says whether count in an hour is a spike under the policy,
// given the history before it: above the floor, and above the multiple
// of the usual hourly count (compared without rounding).
func spiking(p Policy, count int64, h history) bool {
	multiple, floor := p.Spike()
	return count > int64(floor) && count*max(h.hours, 1) > int64(multiple)*h.sum
}

// record notes a spike of subject today; false when one was noted before.
func (d *spikeCheck) record(subject string, count, usual int64) (bool, error) {
	res, err := d.tx.ExecContext(d.ctx, `INSERT INTO usage_spikes (subject, day, hour, count, usual) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, subject, d.day, d.hour, count, usual)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (d *spikeCheck) key(s *Store, b busyRow) (bool, error) {
	var k noticeKey
	err := d.tx.QueryRowContext(d.ctx, `SELECT id, public_id, name, org_id, created_by, created_at FROM keys WHERE id = ?`, b.row).
		Scan(&k.row, &k.id, &k.name, &k.org, &k.createdBy, &k.createdAt)
	if err == sql.ErrNoRows {
		return false, nil // deleted since
	}
	if err != nil {
		return false, err
	}
	h, err := d.history(`SELECT coalesce(sum(count), 0), min(hour) FROM key_usage_hourly WHERE key_id = ? AND hour >= ? AND hour < ?`, k.row)
	if err != nil || !spiking(d.orgs[k.org].Effective, b.count, h) {
		return false, err
	}
	usual := h.usual()
	if fresh, err := d.record(spikeSubject("key", k.row), b.count, usual); err != nil || !fresh {
		return false, err
	}
	multiple, floor := d.orgs[k.org].Effective.Spike()
	ev := eventRecord{Action: ActionKeyUsageSpike, TargetType: TargetKey, TargetID: k.id, TargetName: k.name, org: k.org,
		Details: spikeDetails(d.hour, b.count, usual, multiple, floor)}
	if err := s.logEvent(d.ctx, d.tx, d.now, SystemActor("usage"), ev); err != nil {
		return false, err
	}
	return true, d.plan.raiseWith(k, NoticeUsageSpike, d.hour, 0, b.count, usual)
}

func (d *spikeCheck) org(s *Store, b busyRow) (bool, error) {
	o, ok := d.orgs[b.row]
	if !ok {
		return false, nil
	}
	h, err := d.history(`SELECT coalesce(sum(count), 0), min(hour) FROM org_refusals_hourly WHERE org_id = ? AND hour >= ? AND hour < ?`, b.row)
	if err != nil || !spiking(o.Effective, b.count, h) {
		return false, err
	}
	usual := h.usual()
	if fresh, err := d.record(spikeSubject("org", b.row), b.count, usual); err != nil || !fresh {
		return false, err
	}
	multiple, floor := o.Effective.Spike()
	ev := orgEvent(ActionOrgRefusalsSpike, o, nil)
	ev.Details = spikeDetails(d.hour, b.count, usual, multiple, floor)
	return true, s.logEvent(d.ctx, d.tx, d.now, SystemActor("usage"), ev)
}

// spikeDetails are the figures a spike's event names.
func spikeDetails(hour, count, usual int64, multiple, floor int) map[string]any {
	return map[string]any{
		"hour": time.Unix(hour, 0).UTC().Format(time.RFC3339), "count": count, "usual_per_hour": usual,
		"multiple": multiple, "floor": floor,
	}
}

// spikeSubject names a key ("key") or an organization ("org") by its row
// in usage_spikes.
func spikeSubject(kind string, row int64) string {
	return kind + ":" + strconv.FormatInt(row, 10)
}
