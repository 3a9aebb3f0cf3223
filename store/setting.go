package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"strconv"
	"time"
)

// SessionKeys returns the keys that sign and encrypt session cookies,
// generating them on first use. They live in the database so that a restart
// keeps people logged in.
func (s *Store) SessionKeys(ctx context.Context) (hashKey, blockKey []byte, err error) {
	err = s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		for _, k := range []struct {
			name string
			size int
			dst  *[]byte
		}{{"session_hash_key", 64, &hashKey}, {"session_block_key", 32, &blockKey}} {
			fresh := make([]byte, k.size)
			rand.Read(fresh)
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, k.name, fresh); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, k.name).Scan(k.dst); err != nil {
				return err
			}
		}
		return nil
	})
	return hashKey, blockKey, err
}

// Settings that administrators change in the console.
const settingEventRetention = "event_retention_days"

// MaxRetentionDays bounds the retention setting (about a hundred years).
const MaxRetentionDays = 36500

// EventRetention returns how many days events are kept; 0 keeps them for
// good, which is the default.
func (s *Store) EventRetention(ctx context.Context) (int, error) {
	var v string
	err := s.reader.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, settingEventRetention).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(v)
}

// SetEventRetention sets how many days events are kept (0: for good).
func (s *Store) SetEventRetention(ctx context.Context, actor Actor, days int) error {
	if err := actor.wholeTree(); err != nil {
		return err
	}
	if days < 0 || days > MaxRetentionDays {
		return Errorf(EINVALID, "retention_days", "Enter a number of days from 1 to %d, or 0 to keep events for good.", MaxRetentionDays)
	}
	before, err := s.EventRetention(ctx)
	if err != nil {
		return err
	}
	if before == days {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, settingEventRetention, strconv.Itoa(days)); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, now, actor, eventRecord{
			Action: ActionSettingsChanged, TargetType: TargetSettings, TargetID: settingEventRetention, TargetName: "Event retention",
			Changes: map[string]Change{"retention_days": {Before: before, After: days}},
		})
	})
}

// PruneEvents deletes the events older than the retention setting, a batch
// per transaction so that the console keeps serving, and records how many
// it deleted. It returns that number.
func (s *Store) PruneEvents(ctx context.Context) (int, error) {
	days, err := s.EventRetention(ctx)
	if err != nil || days == 0 {
		return 0, err
	}
	cutoff := s.now().AddDate(0, 0, -days)
	total := 0
	for {
		var n int64
		err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
			const batch = `SELECT id FROM events WHERE at < ? ORDER BY id LIMIT 5000`
			// The search entries go first, read from the events.
			if err := s.text.dropEvents(ctx, tx, batch, cutoff.Unix()); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE id IN (`+batch+`)`, cutoff.Unix())
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
		}
		total += int(n)
		if n == 0 {
			break
		}
	}
	if total == 0 {
		return 0, nil
	}
	return total, s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		return s.logEvent(ctx, tx, now, SystemActor("retention"), eventRecord{
			Action: ActionEventsPruned, TargetType: TargetEvents, TargetName: "Audit log",
			Details: map[string]any{"deleted": total, "before": timeValue(cutoff), "retention_days": days},
		})
	})
}

// RecordEvent writes an event that goes with no change of the store's own:
// an export, or a refused request.
func (s *Store) RecordEvent(ctx context.Context, actor Actor, action, targetType, targetName string, details map[string]any) error {
	return s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		return s.logEvent(ctx, tx, now, actor, eventRecord{Action: action, TargetType: targetType, TargetName: targetName, Details: details})
	})
}
