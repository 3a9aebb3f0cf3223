package store

import (
	"context"
	"database/sql"
	"time"
)

// SchedulerActor is who scheduled rotations are recorded as made by.
var SchedulerActor = SystemActor("scheduler")

// scheduleBatch is how many due keys the scheduler reads at a time.
const scheduleBatch = 100

// ScheduleRun says what one run of the rotation schedule did.
type ScheduleRun struct {
	Rotated int
	// Failed are the keys that could not be rotated, with why: each is
	// tried again on the next run.
	Failed map[string]error
}

// SetKeySchedule sets a key's rotation schedule: every days, 0 for none.
// The next rotation is due days after the key's current secret was made.
func (s *Store) SetKeySchedule(ctx context.Context, actor Actor, id string, days int) (Key, error) {
	return s.changeKey(ctx, actor, id, scheduleChange(days))
}

// scheduleChange sets a key's rotation schedule to every days, 0 for none.
func scheduleChange(days int) keyChange {
	return keyChange{action: KeySchedule, apply: func(c *changeTx, k *Key) (*eventRecord, error) {
		if msg := RotateEveryProblem(days); msg != "" {
			return nil, &Error{Code: EINVALID, Field: "rotate_every_days", Message: msg}
		}
		if days == k.RotateEveryDays {
			return nil, nil
		}
		var since sql.NullInt64
		if err := c.stmts.QueryRowContext(c.ctx, `SELECT rotated_at FROM keys WHERE id = ?`, k.rowID).Scan(&since); err != nil {
			return nil, err
		}
		from := k.CreatedAt
		if since.Valid {
			from = time.Unix(since.Int64, 0).UTC()
		}
		ev := keyEvent(k, ActionKeyScheduleSet, map[string]Change{"rotate_every_days": {Before: k.RotateEveryDays, After: days}})
		k.RotateEveryDays, k.RotateDueAt = days, time.Time{}
		if days > 0 {
			// A schedule shorter than the secret's age is due at once.
			k.RotateDueAt = from.AddDate(0, 0, days)
		}
		if err := writeSchedule(c.ctx, c.stmts, k); err != nil {
			return nil, err
		}
		return ev, c.update(k, "")
	}}
}

// writeSchedule writes k's rotation schedule and when it is next due:
// none deletes it.
func writeSchedule(ctx context.Context, db execer, k *Key) error {
	if k.RotateEveryDays == 0 {
		_, err := db.ExecContext(ctx, `DELETE FROM key_schedules WHERE key_id = ?`, k.rowID)
		return err
	}
	_, err := db.ExecContext(ctx, `INSERT INTO key_schedules (key_id, every_days, due_at) VALUES (?, ?, ?)
		ON CONFLICT (key_id) DO UPDATE SET every_days = excluded.every_days, due_at = excluded.due_at`,
		k.rowID, k.RotateEveryDays, unix(k.RotateDueAt))
	return err
}

// RotateDueKeys rotates every key whose schedule is due at the store's
// clock, each in its own transaction, with its organization's grace
// period. The new secret is kept encrypted until someone collects it.
//
// Every rotation checks, in its transaction, that the key is still due,
// and moves the next due time on: so a second run, or one after a crash
// half-way, rotates nothing twice, and what a crash interrupted is done by
// the next run. A key that cannot be rotated (no master key, too many
// secrets in grace) is reported and skipped until the next run.
func (s *Store) RotateDueKeys(ctx context.Context) (ScheduleRun, error) {
	run := ScheduleRun{Failed: map[string]error{}}
	now := s.now()
	// Keyset paging over (due, row): a key that fails is not read again.
	var afterDue, afterRow int64 = -1 << 62, 0
	for {
		type due struct {
			id       string
			at, rows int64
		}
		var batch []due
		err := s.read(ctx, func(tx *sql.Tx) error {
			var err error
			batch, err = allRows(ctx, tx, func(r rowScanner) (due, error) {
				var d due
				return d, r.Scan(&d.id, &d.at, &d.rows)
			}, `SELECT k.public_id, s.due_at, s.key_id FROM key_schedules s INDEXED BY key_schedules_due JOIN keys k ON k.id = s.key_id
				WHERE s.due_at IS NOT NULL AND s.due_at <= ?1 AND (s.due_at, s.key_id) > (?2, ?3)
				AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?1)
				ORDER BY s.due_at, s.key_id LIMIT ?4`, now.Unix(), afterDue, afterRow, scheduleBatch)
			return err
		})
		if err != nil || len(batch) == 0 {
			return run, err
		}
		for _, d := range batch {
			if err := ctx.Err(); err != nil {
				return run, err
			}
			afterDue, afterRow = d.at, d.rows
			var replaced Secret
			_, err := s.changeKey(ctx, SchedulerActor, d.id, s.rotateChange(NewSecret(), OrgGrace, true, &replaced))
			switch {
			case err != nil && ErrorCode(err) == "":
				return run, err // the database, not the key
			case err != nil:
				run.Failed[d.id] = err
			case !replaced.ReplacedAt.IsZero():
				run.Rotated++
			}
		}
	}
}
