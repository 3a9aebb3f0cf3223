package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// Calendar feed events.
const (
	ActionCalendarCreated = "user.calendar_created"
	ActionCalendarRevoked = "user.calendar_revoked"
)

// CalendarTokenPrefix starts the token of a calendar feed's address.
const CalendarTokenPrefix = "kdc_"

// Calendar limits: how far ahead and behind a feed looks, and how many
// dates of each kind it lists at most.
const (
	CalendarAhead   = 400 * 24 * time.Hour
	CalendarBehind  = 7 * 24 * time.Hour
	CalendarEntries = 1000
)

// CalendarSince says when the user's calendar address was made; false
// when they have none.
func (s *Store) CalendarSince(ctx context.Context, userID int64) (time.Time, bool, error) {
	var at int64
	err := s.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT created_at FROM calendar_feeds WHERE user_id = ?`, userID).Scan(&at)
	})
	if err == sql.ErrNoRows {
		return time.Time{}, false, nil
	}
	return time.Unix(at, 0).UTC(), err == nil, err
}

// CreateCalendarToken gives the actor a new calendar address, which ends the
// one they had, and returns its token: only its hash is kept.
func (s *Store) CreateCalendarToken(ctx context.Context, actor Actor) (string, error) {
	token := CalendarTokenPrefix + randomString(40, publicIDAlphabet)
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		u, err := userByID(ctx, tx, actor.UserID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO calendar_feeds (user_id, token_hash, created_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at`,
			u.ID, HashSecret(token), now.Unix()); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, now, actor, userEvent(ActionCalendarCreated, u, nil, nil))
	})
	return token, err
}

// RevokeCalendar ends the actor's calendar address.
func (s *Store) RevokeCalendar(ctx context.Context, actor Actor) error {
	return s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		u, err := userByID(ctx, tx, actor.UserID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM calendar_feeds WHERE user_id = ?`, u.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return Errorf(ENOTFOUND, "", "You have no calendar address.")
		}
		return s.logEvent(ctx, tx, now, actor, userEvent(ActionCalendarRevoked, u, nil, nil))
	})
}

// CalendarEntry is one date of a feed: a key's expiry, or its scheduled
// rotation.
type CalendarEntry struct {
	Kind    string // NoticeExpiring or NoticeRotationDue
	KeyID   string
	KeyName string
	OrgPath string
	At      time.Time
}

// CalendarFeed is what a calendar address shows: its user's keys' dates.
type CalendarFeed struct {
	User    User
	Entries []CalendarEntry
}

// Calendar reads the feed of a calendar token: the expiry dates from a
// week ago and the scheduled rotations from now, to CalendarAhead, of the keys that are neither
// revoked nor deleted in the user's organizations, if they may read keys.
// An unknown token, or one of a disabled user, is ENOTFOUND.
func (s *Store) Calendar(ctx context.Context, token string) (CalendarFeed, error) {
	var feed CalendarFeed
	if !strings.HasPrefix(token, CalendarTokenPrefix) {
		return feed, Errorf(ENOTFOUND, "", "There is no such calendar.")
	}
	x, err := s.orgs.get()
	if err != nil {
		return feed, err
	}
	err = s.read(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM calendar_feeds WHERE token_hash = ?`, HashSecret(token)).Scan(&id)
		if err == sql.ErrNoRows {
			return Errorf(ENOTFOUND, "", "There is no such calendar.")
		}
		if err != nil {
			return err
		}
		if feed.User, err = userByID(ctx, tx, id); err != nil {
			return err
		}
		if !feed.User.DisabledAt.IsZero() {
			return Errorf(ENOTFOUND, "", "There is no such calendar.")
		}
		if !feed.User.Can(RightKeysView, RightKeysRead) {
			return nil
		}
		now := s.now()
		sc := feed.User.Scope()
		read := func(kind string, query func(a *args) string) error {
			a := &args{}
			q := query(a)
			rows, err := allRows(ctx, tx, func(r rowScanner) (CalendarEntry, error) {
				e := CalendarEntry{Kind: kind}
				var org, at int64
				err := r.Scan(&e.KeyID, &e.KeyName, &org, &at)
				e.At = time.Unix(at, 0).UTC()
				if info := x.byRow[org]; info != nil {
					e.OrgPath = s.orgPath(x, info.id)
				}
				return e, err
			}, q, a.list...)
			feed.Entries = append(feed.Entries, rows...)
			return err
		}
		from, to := now.Add(-CalendarBehind).Unix(), now.Add(CalendarAhead).Unix()
		err = read(NoticeExpiring, func(a *args) string {
			return `SELECT k.public_id, k.name, k.org_id, k.expires_at FROM keys k INDEXED BY keys_by_expiry
				WHERE k.expires_sort > ` + a.add(from) + ` AND k.expires_sort <= ` + a.add(to) + ` AND k.revoked_at IS NULL
				AND ` + sc.orgCondition(a, "k.org_id") + ` ORDER BY k.expires_sort LIMIT ` + a.add(CalendarEntries)
		})
		if err != nil {
			return err
		}
		return read(NoticeRotationDue, func(a *args) string {
			return `SELECT k.public_id, k.name, k.org_id, s.due_at FROM key_schedules s JOIN keys k ON k.id = s.key_id
				WHERE s.due_at > ` + a.add(now.Unix()) + ` AND s.due_at <= ` + a.add(to) + ` AND k.revoked_at IS NULL
				AND ` + sc.orgCondition(a, "k.org_id") + ` ORDER BY s.due_at LIMIT ` + a.add(CalendarEntries)
		})
	})
	return feed, err
}
