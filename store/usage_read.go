package store

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
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

// Of counts those with one outcome: a refusal code, or OutcomeValid.
func (c UsageCounts) Of(outcome string) int64 {
	if outcome == OutcomeValid {
		outcome = ""
	}
	return c[outcomeOf(outcome)]
}

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

// usageRow is a row of a usage table summed: its hour, day or
// organization, its outcome and the count.
type usageRow struct {
	at      int64
	outcome int
	count   int64
}

// keyUsageRow is a key's count of one outcome, with what names the key.
type keyUsageRow struct {
	k       KeyActivity
	org     int64
	outcome int
	n       int64
}

// ActionActivityExported records a download of the Activity page.
const ActionActivityExported = "activity.exported"

// ActivityPeriod is a period the Activity page offers.
type ActivityPeriod struct {
	Name, Label string
	Span        time.Duration
}

// ActivityPeriods are the periods the Activity page offers, in order.
var ActivityPeriods = []ActivityPeriod{
	{"24h", "24 hours", 24 * time.Hour}, {"7d", "7 days", 7 * 24 * time.Hour}, {"30d", "30 days", 30 * 24 * time.Hour},
}

// ActivityPeriodNamed finds an offered period by its name.
func ActivityPeriodNamed(name string) (ActivityPeriod, bool) {
	i := slices.IndexFunc(ActivityPeriods, func(p ActivityPeriod) bool { return p.Name == name })
	if i < 0 {
		return ActivityPeriod{}, false
	}
	return ActivityPeriods[i], true
}

// KeyActivity is one key's verifications over a period.
type KeyActivity struct {
	ID, Name string
	OrgID    string
	OrgPath  string
	Counts   UsageCounts
}

// OrgRefusals are the refusals of no key (not found, malformed) asked
// about an organization over a period.
type OrgRefusals struct {
	OrgID, OrgPath string
	Counts         UsageCounts
}

// Activity is the verifications of a scope's keys over a period: every
// key used, busiest first, and the refusals that named no key.
type Activity struct {
	From  time.Time
	Keys  []KeyActivity
	Orgs  []OrgRefusals
	Total UsageCounts
}

// Top returns at most n of the keys with the most verifications that by
// counts, most first (ties by name), leaving out those with none.
func (a Activity) Top(n int, by func(UsageCounts) int64) []KeyActivity {
	out := slices.Clone(a.Keys)
	out = slices.DeleteFunc(out, func(k KeyActivity) bool { return by(k.Counts) == 0 })
	slices.SortStableFunc(out, func(x, y KeyActivity) int {
		if c := cmp.Compare(by(y.Counts), by(x.Counts)); c != 0 {
			return c
		}
		return cmp.Compare(x.Name, y.Name)
	})
	return out[:min(n, len(out))]
}

// Activity reads the verifications of the scope's keys over the period
// before now: by the hour for a day or less, by the day (UTC, the
// current one included) beyond, so that a week reads seven rows a key
// and outcome rather than 168.
func (s *Store) Activity(ctx context.Context, sc Scope, period time.Duration) (Activity, error) {
	x, err := s.orgs.get()
	if err != nil {
		return Activity{}, err
	}
	now := s.now()
	table, bucket, from := "key_usage_hourly", "hour", hourOf(now.Add(-period))+3600
	orgTable := "org_refusals_hourly"
	if period > 24*time.Hour {
		table, bucket, from, orgTable = "key_usage_daily", "day", dayOf(now.Add(-period))+86400, "org_refusals_daily"
	}
	a := Activity{From: time.Unix(from, 0).UTC()}
	err = s.read(ctx, func(tx *sql.Tx) error {
		byKey := map[string]int{}
		q := &args{}
		query := `SELECT k.public_id, k.name, k.org_id, u.outcome, sum(u.count) FROM ` + table + ` u JOIN keys k ON k.id = u.key_id
			WHERE u.` + bucket + ` >= ` + q.add(from) + ` AND ` + sc.orgCondition(q, "k.org_id") + ` GROUP BY k.id, u.outcome`
		err := eachRow(ctx, tx, func(r rowScanner) (keyUsageRow, error) {
			var v keyUsageRow
			return v, r.Scan(&v.k.ID, &v.k.Name, &v.org, &v.outcome, &v.n)
		}, func(v keyUsageRow) error {
			if v.outcome < 0 || v.outcome >= numOutcomes {
				return nil
			}
			i, ok := byKey[v.k.ID]
			if !ok {
				if info := x.byRow[v.org]; info != nil {
					v.k.OrgID, v.k.OrgPath = info.id, s.orgPath(x, info.id)
				}
				i = len(a.Keys)
				byKey[v.k.ID] = i
				a.Keys = append(a.Keys, v.k)
			}
			a.Keys[i].Counts[v.outcome] += v.n
			a.Total[v.outcome] += v.n
			return nil
		}, query, q.list...)
		if err != nil {
			return err
		}
		byOrg := map[int64]int{}
		q = &args{}
		query = `SELECT u.org_id, u.outcome, sum(u.count) FROM ` + orgTable + ` u
			WHERE u.` + bucket + ` >= ` + q.add(from) + ` AND ` + sc.orgCondition(q, "u.org_id") + ` GROUP BY u.org_id, u.outcome`
		return eachRow(ctx, tx, func(r rowScanner) (usageRow, error) {
			var v usageRow
			return v, r.Scan(&v.at, &v.outcome, &v.count) // at holds the organization
		}, func(v usageRow) error {
			info := x.byRow[v.at]
			if info == nil || v.outcome < 0 || v.outcome >= numOutcomes {
				return nil
			}
			i, ok := byOrg[v.at]
			if !ok {
				i = len(a.Orgs)
				byOrg[v.at] = i
				a.Orgs = append(a.Orgs, OrgRefusals{OrgID: info.id, OrgPath: s.orgPath(x, info.id)})
			}
			a.Orgs[i].Counts[v.outcome] += v.count
			a.Total[v.outcome] += v.count
			return nil
		}, query, q.list...)
	})
	slices.SortFunc(a.Keys, func(x, y KeyActivity) int { return cmp.Compare(y.Counts.Total(), x.Counts.Total()) })
	slices.SortFunc(a.Orgs, func(x, y OrgRefusals) int { return cmp.Compare(x.OrgPath, y.OrgPath) })
	return a, err
}

// SparklineHours is how many hours a key list's sparklines cover.
const SparklineHours = 36

// Sparklines reads the valid verifications of each of keys by hour over
// the last hours hours, the current one last, by public id. It reads one
// range of the hourly table per key.
func (s *Store) Sparklines(ctx context.Context, keys []Key, hours int) (map[string][]int64, error) {
	out := make(map[string][]int64, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	rows := make([]int64, len(keys))
	byRow := make(map[int64][]int64, len(keys))
	for i, k := range keys {
		rows[i] = k.rowID
		line := make([]int64, hours)
		out[k.ID], byRow[k.rowID] = line, line
	}
	in, ids := inList(rows)
	last := hourOf(s.now())
	first := last - int64(hours-1)*3600
	err := s.read(ctx, func(tx *sql.Tx) error {
		type hourCount struct{ key, hour, count int64 }
		return eachRow(ctx, tx, func(r rowScanner) (hourCount, error) {
			var v hourCount
			return v, r.Scan(&v.key, &v.hour, &v.count)
		}, func(v hourCount) error {
			if line := byRow[v.key]; line != nil {
				if i := (v.hour - first) / 3600; i >= 0 && i < int64(hours) {
					line[i] += v.count
				}
			}
			return nil
		}, `SELECT u.key_id, u.hour, u.count FROM key_usage_hourly u
			WHERE u.key_id IN `+in+` AND u.hour >= ? AND u.outcome = 0`, append(ids, first)...)
	})
	return out, err
}
