package store

import (
	"context"
	"database/sql"
	"time"
)

// RetryDelays are the waits between tries of a notice's email or a
// webhook delivery that failed: exponential at first, then every ten
// hours, for more than a day in all. After the last, it is marked failed.
var RetryDelays = []time.Duration{
	time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// retryAfter says when the next try after the attempts-th failed one is
// due, or false when there is none left.
func retryAfter(attempts int, now time.Time) (time.Time, bool) {
	if attempts > len(RetryDelays) {
		return time.Time{}, false
	}
	return now.Add(RetryDelays[attempts-1]), true
}

// MailBatch is the notices one user is to get in one email.
type MailBatch struct {
	UserID      int64
	Username    string
	DisplayName string
	Email       string
	Notices     []Notice
	// Attempts is how many times sending them failed before.
	Attempts int
}

// ClaimMail claims the notices due to be mailed, for owner until
// now+lease: those of at most users users, one batch each, every notice a
// user is due at once in one batch. Notices another owner holds are left
// to it until its claim lapses; those their user no longer wants are
// dropped.
func (s *Store) ClaimMail(ctx context.Context, owner string, lease time.Duration, users int) ([]MailBatch, error) {
	x, err := s.orgs.get()
	if err != nil {
		return nil, err
	}
	var out []MailBatch
	err = s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		out = nil
		// Someone disabled, without an address now, or who opted out since
		// a notice was queued for them, does not get it.
		if _, err := tx.ExecContext(ctx, `DELETE FROM notice_mail WHERE sent_at IS NULL AND failed_at IS NULL
			AND NOT (`+noticeWanted("notice_mail.user_id", "(SELECT kind FROM notices WHERE id = notice_mail.notice_id)")+`)`); err != nil {
			return err
		}
		const due = `sent_at IS NULL AND failed_at IS NULL AND next_try <= ?1 AND (owner IS NULL OR lease_until <= ?1)`
		ids, err := allRows(ctx, tx, scanID, `SELECT DISTINCT user_id FROM notice_mail WHERE `+due+` ORDER BY user_id LIMIT ?2`, now.Unix(), users)
		if err != nil {
			return err
		}
		for _, uid := range ids {
			b := MailBatch{UserID: uid}
			if err := tx.QueryRowContext(ctx, `SELECT username, display_name, email FROM users WHERE id = ?`, uid).
				Scan(&b.Username, &b.DisplayName, &b.Email); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE notice_mail SET owner = ?2, lease_until = ?3 WHERE user_id = ?4 AND `+due,
				now.Unix(), owner, now.Add(lease).Unix(), uid); err != nil {
				return err
			}
			b.Notices, err = allRows(ctx, tx, func(r rowScanner) (Notice, error) {
				var n Notice
				var org, dueFor, at int64
				var attempts int
				err := r.Scan(&n.ID, &n.Kind, &n.KeyID, &n.KeyName, &org, &dueFor, &n.Days, &at, &attempts, &n.Figure, &n.Usual)
				n.DueFor, n.At = time.Unix(dueFor, 0).UTC(), time.Unix(at, 0).UTC()
				if o := x.byRow[org]; o != nil {
					n.OrgID = o.id
				}
				b.Attempts = max(b.Attempts, attempts)
				return n, err
			}, `SELECT n.id, n.kind, n.key_id, n.key_name, n.org_id, n.due_for, n.days, n.at, m.attempts, n.figure, n.usual
				FROM notice_mail m JOIN notices n ON n.id = m.notice_id
				WHERE m.user_id = ? AND m.owner = ? AND m.sent_at IS NULL AND m.failed_at IS NULL ORDER BY n.due_for, n.id`, uid, owner)
			if err != nil {
				return err
			}
			out = append(out, b)
		}
		return nil
	})
	for i := range out {
		for j := range out[i].Notices {
			out[i].Notices[j].OrgPath = s.orgPath(x, out[i].Notices[j].OrgID)
		}
	}
	return out, err
}

// orgPath names an organization by its path from the root, "" when it is
// gone.
func (s *Store) orgPath(x *orgIndex, id string) string {
	for _, o := range x.tree {
		if o.ID == id {
			return o.Path
		}
	}
	return ""
}

// RecordMailSent records that owner sent b.
func (s *Store) RecordMailSent(ctx context.Context, owner string, b MailBatch) error {
	return s.finishMail(ctx, owner, b, func(tx *sql.Tx, now time.Time, notice int64) error {
		_, err := tx.ExecContext(ctx, `UPDATE notice_mail SET sent_at = ?, owner = NULL, lease_until = NULL, last_error = ''
			WHERE notice_id = ? AND user_id = ? AND owner = ?`, now.Unix(), notice, b.UserID, owner)
		return err
	})
}

// RecordMailFailure records that sending b failed, and when to try again; after
// the last of RetryDelays the notices are marked failed.
func (s *Store) RecordMailFailure(ctx context.Context, owner string, b MailBatch, why error) error {
	return s.finishMail(ctx, owner, b, func(tx *sql.Tx, now time.Time, notice int64) error {
		var attempts int
		if err := tx.QueryRowContext(ctx, `SELECT attempts + 1 FROM notice_mail WHERE notice_id = ? AND user_id = ?`, notice, b.UserID).Scan(&attempts); err != nil {
			return err
		}
		next, ok := retryAfter(attempts, now)
		var failed sql.NullInt64
		if !ok {
			failed = unix(now)
		}
		_, err := tx.ExecContext(ctx, `UPDATE notice_mail SET attempts = ?, next_try = ?, failed_at = ?, last_error = ?, owner = NULL, lease_until = NULL
			WHERE notice_id = ? AND user_id = ? AND owner = ?`,
			attempts, next.Unix(), failed, why.Error(), notice, b.UserID, owner)
		return err
	})
}

func (s *Store) finishMail(ctx context.Context, owner string, b MailBatch, fn func(*sql.Tx, time.Time, int64) error) error {
	return s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		for _, n := range b.Notices {
			if err := fn(tx, now, n.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// MailQueue counts the notices waiting to be mailed, and those that
// failed for good.
func (s *Store) MailQueue(ctx context.Context) (waiting, failed int, err error) {
	err = s.reader.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NULL), count(failed_at) FROM notice_mail`).Scan(&waiting, &failed)
	return waiting, failed, err
}
