package store

import (
	"context"
	"database/sql"
	"time"
)

// retentionBatch is how many keys one transaction of PurgeRetired deletes.
const retentionBatch = 1000

// retiredKeys selects an organization's own keys (k.org_id, the first
// parameter) that expired or were revoked by a time (the next two).
const retiredKeys = `k.org_id = ? AND (k.expires_sort <= ? OR k.revoked_at <= ?)`

// RetiredKeys counts the keys of the organization with this public id and
// below, in the scope, that their organization's retention will delete at
// its next run.
func (s *Store) RetiredKeys(ctx context.Context, sc Scope, orgID string) (int, error) {
	return readValue(ctx, s, func(tx *sql.Tx) (int, error) {
		o, err := orgByID(ctx, tx, sc, orgID)
		if err != nil {
			return 0, err
		}
		below, err := orgTree(ctx, tx, orgScope(o.ids))
		if err != nil {
			return 0, err
		}
		total := 0
		for _, b := range below {
			days := b.Effective.DeleteAfterDays
			if days == 0 {
				continue
			}
			cutoff := s.now().Add(-time.Duration(days) * 24 * time.Hour).Unix()
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM keys k INDEXED BY keys_org_name WHERE `+retiredKeys, b.rowID, cutoff, cutoff).Scan(&n); err != nil {
				return 0, err
			}
			total += n
		}
		return total, nil
	})
}

// RetentionRun says what one run of the key retention did.
type RetentionRun struct {
	Deleted int
	Orgs    int // organizations with a retention policy
}

// PurgeRetired deletes the keys of every organization whose policy says
// to delete keys some days after they expire or are revoked, once those
// days have passed. Each deletion is a key.deleted event by "retention"
// that names the policy; a batch and its events commit together.
func (s *Store) PurgeRetired(ctx context.Context) (RetentionRun, error) {
	var run RetentionRun
	orgs, err := readValue(ctx, s, func(tx *sql.Tx) ([]Org, error) { return orgTree(ctx, tx, Scope{}) })
	if err != nil {
		return run, err
	}
	for _, o := range orgs {
		days := o.Effective.DeleteAfterDays
		if days == 0 {
			continue
		}
		run.Orgs++
		for {
			n, err := s.purgeBatch(ctx, o, days)
			run.Deleted += n
			if err != nil || n < retentionBatch {
				if err != nil {
					return run, err
				}
				break
			}
		}
	}
	return run, nil
}

// purgeBatch deletes at most retentionBatch of o's own keys that expired
// or were revoked more than days ago.
func (s *Store) purgeBatch(ctx context.Context, o Org, days int) (int, error) {
	var rows []int64
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		cutoff := now.Add(-time.Duration(days) * 24 * time.Hour).Unix()
		var err error
		rows, err = allRows(ctx, tx, scanID, `SELECT k.id FROM keys k INDEXED BY keys_org_name WHERE `+retiredKeys+` LIMIT ?`, o.rowID, cutoff, cutoff, retentionBatch)
		if err != nil || len(rows) == 0 {
			return err
		}
		c := s.newChangeTx(ctx, tx, now, SystemActor("retention"))
		ch := deleteChange()
		for _, row := range rows {
			k, err := scanKey(c.stmts.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM keys k WHERE k.id = ?`, row))
			if err != nil {
				return err
			}
			ev, err := ch.apply(c, &k)
			if err != nil {
				return err
			}
			ev.Details["reason"] = "retention"
			ev.Details["delete_after_days"] = days
			if err := s.logEvent(ctx, c.stmts, now, c.actor, *ev); err != nil {
				return err
			}
		}
		return c.flush()
	})
	if err != nil {
		return 0, err
	}
	s.cache.drop(rows, true)
	return len(rows), nil
}
