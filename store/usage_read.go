package store

import (
	"context"
	"database/sql"
	"time"
)

// UsageCounts are verifications by outcome, indexed as UsageOutcomes.
type UsageCounts [numOutcomes]int64

// Valid counts the verifications that passed.
func (c UsageCounts) Valid() int64 { return c[0] }

// RateLimited counts those refused for the key's rate limit.
func (c UsageCounts) RateLimited() int64 { return c[1] }

// Refused counts those refused for any other reason.
func (c UsageCounts) Refused() int64 { return c.Total() - c[0] - c[1] }

// Total counts them all.
func (c UsageCounts) Total() int64 {
	var n int64
	for _, v := range c {
		n += v
	}
	return n
}

// Add adds d's counts to c's.
func (c *UsageCounts) Add(d UsageCounts) {
	for i, v := range d {
		c[i] += v
	}
}

// UsagePeriod is the counts of one hour or day, from At.
type UsagePeriod struct {
	At     time.Time
	Counts UsageCounts
}

// KeyUsage is a key's verifications over its last days, oldest first,
// with their totals.
type KeyUsage struct {
	Days  []UsagePeriod
	Total UsageCounts
}

// KeyUsageDays reads the verifications of a key of the scope over the
// last days days, today included, by day (UTC); days without any are
// there, with zero counts. What the last flush has not written yet (a
// few seconds' worth) is not.
func (s *Store) KeyUsageDays(ctx context.Context, sc Scope, id string, days int) (KeyUsage, error) {
	return readValue(ctx, s, func(tx *sql.Tx) (KeyUsage, error) {
		k, err := keyByID(ctx, tx, sc, id)
		if err != nil {
			return KeyUsage{}, err
		}
		first := dayOf(s.now()) - int64(days-1)*86400
		u := KeyUsage{Days: make([]UsagePeriod, days)}
		for i := range u.Days {
			u.Days[i].At = time.Unix(first+int64(i)*86400, 0).UTC()
		}
		err = eachRow(ctx, tx, func(r rowScanner) (usageRow, error) {
			var x usageRow
			return x, r.Scan(&x.at, &x.outcome, &x.count)
		}, func(x usageRow) error {
			i := int((x.at - first) / 86400)
			if i >= 0 && i < days && x.outcome >= 0 && x.outcome < numOutcomes {
				u.Days[i].Counts[x.outcome] += x.count
				u.Total[x.outcome] += x.count
			}
			return nil
		}, `SELECT day, outcome, count FROM key_usage_daily WHERE key_id = ? AND day >= ?`, k.rowID, first)
		return u, err
	})
}

type usageRow struct {
	at      int64
	outcome int
	count   int64
}
