package store

import (
	"context"
	"database/sql"
	"time"
)

// JobState is what the database knows of one background job: who holds
// it now, when it is next due, and what its last run did.
type JobState struct {
	Name string
	// Owner holds the job until LeaseUntil; empty when nobody does.
	Owner      string
	LeaseUntil time.Time
	NextRun    time.Time
	// LastStarted and LastFinished are the last run's; zero before the
	// first.
	LastStarted, LastFinished time.Time
	LastSummary               string
	LastError                 string
	// Failures counts the runs that failed since the last that did not.
	Failures int
	Runs     int
}

// Running says whether someone holds the job at t.
func (j JobState) Running(t time.Time) bool {
	return j.Owner != "" && j.LeaseUntil.After(t)
}

// ClaimJob claims the job name for owner until now+lease, if it is due at
// now and nobody else holds it (a claim whose lease ended has lapsed: its
// owner died or hung). It reports whether the claim is owner's. A job
// never seen before is due.
func (s *Store) ClaimJob(ctx context.Context, name, owner string, lease time.Duration) (bool, error) {
	var claimed bool
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO jobs (name) VALUES (?) ON CONFLICT (name) DO NOTHING`, name); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET owner = ?1, lease_until = ?2, last_started = ?3
			WHERE name = ?4 AND next_run <= ?3 AND (owner IS NULL OR lease_until <= ?3 OR owner = ?1)`,
			owner, now.Add(lease).Unix(), now.Unix(), name)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	return claimed, err
}

// ExtendJob moves owner's lease on name to now+lease, for a run that takes
// longer than its lease. It reports false when the claim is no longer
// owner's: it lapsed and someone else took the job.
func (s *Store) ExtendJob(ctx context.Context, name, owner string, lease time.Duration) (bool, error) {
	var held bool
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET lease_until = ? WHERE name = ? AND owner = ?`, now.Add(lease).Unix(), name, owner)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		held = n == 1
		return err
	})
	return held, err
}

// FinishJob records the end of owner's run of name: what it did, or why it
// failed, and that it is next due at next. The claim is given up. A run
// whose claim lapsed and was taken records nothing: the new owner's run
// will.
func (s *Store) FinishJob(ctx context.Context, name, owner, summary string, runErr error, next time.Time) error {
	return s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		msg, failed := "", 0
		if runErr != nil {
			msg, failed = runErr.Error(), 1
		}
		_, err := tx.ExecContext(ctx, `UPDATE jobs SET owner = NULL, lease_until = NULL, next_run = ?1, last_finished = ?2,
			last_summary = ?3, last_error = ?4, failures = CASE WHEN ?5 = 1 THEN failures + 1 ELSE 0 END, runs = runs + 1
			WHERE name = ?6 AND owner = ?7`,
			next.Unix(), now.Unix(), summary, msg, failed, name, owner)
		return err
	})
}

// DueByNow makes what waits for a time after t due at t: the jobs, the
// emails and the webhook deliveries to try again. After a run as of a
// day to come (keydesk jobs run --at), so that serve beside it does not
// wait for that day.
func (s *Store) DueByNow(ctx context.Context, t time.Time) error {
	return s.write(ctx, func(tx *sql.Tx, _ time.Time) error {
		for _, query := range []string{
			`UPDATE jobs SET next_run = ?1 WHERE next_run > ?1`,
			`UPDATE notice_mail SET next_try = ?1 WHERE next_try > ?1 AND sent_at IS NULL AND failed_at IS NULL`,
			`UPDATE webhook_deliveries SET next_try = ?1 WHERE next_try > ?1 AND state = 'waiting'`,
		} {
			if _, err := tx.ExecContext(ctx, query, t.Unix()); err != nil {
				return err
			}
		}
		return nil
	})
}

// Jobs lists the rows of the jobs table by name: every job that has run
// or been claimed, and the marks of the jobs' progress (such as
// notices-events), which have a row of their own.
func (s *Store) Jobs(ctx context.Context) ([]JobState, error) {
	return readValue(ctx, s, func(tx *sql.Tx) ([]JobState, error) {
		return allRows(ctx, tx, func(r rowScanner) (JobState, error) {
			var j JobState
			var owner sql.NullString
			var lease, started, finished sql.NullInt64
			var next int64
			err := r.Scan(&j.Name, &owner, &lease, &next, &started, &finished, &j.LastSummary, &j.LastError, &j.Failures, &j.Runs)
			j.Owner, j.LeaseUntil, j.NextRun = owner.String, fromUnix(lease), time.Unix(next, 0).UTC()
			j.LastStarted, j.LastFinished = fromUnix(started), fromUnix(finished)
			return j, err
		}, `SELECT name, owner, lease_until, next_run, last_started, last_finished, last_summary, last_error, failures, runs
			FROM jobs ORDER BY name`)
	})
}

// jobMark reads a job's progress mark: ok is false when it has none yet.
func jobMark(ctx context.Context, tx *sql.Tx, name string) (mark int64, ok bool, err error) {
	var v sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT mark FROM jobs WHERE name = ?`, name).Scan(&v)
	if err == sql.ErrNoRows {
		return 0, false, nil
	}
	return v.Int64, v.Valid, err
}

// setJobMark moves a job's progress mark, in the transaction of the work
// it records.
func setJobMark(ctx context.Context, tx *sql.Tx, name string, mark int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO jobs (name, mark) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET mark = excluded.mark`, name, mark)
	return err
}
