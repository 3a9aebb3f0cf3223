package store

import (
	"context"
	"database/sql"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// ActionNoticesChanged records a user's change of their email address or
// of the notices they get.
const ActionNoticesChanged = "user.notices_changed"

// MaxEmailLen bounds an email address (RFC 5321's path limit).
const MaxEmailLen = 254

// EmailProblem says what is wrong with an email address, "" when nothing
// is; an empty address is allowed (no email).
func EmailProblem(email string) string {
	if email == "" {
		return ""
	}
	if len(email) > MaxEmailLen {
		return "Use at most 254 characters."
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
		return "Enter an email address such as ops@example.com."
	}
	return ""
}

// NoticeSettings are what notices a user gets, and where.
type NoticeSettings struct {
	Email string
	// OptedOut are the notice kinds the user does not want.
	OptedOut []string
}

// Wants says whether the settings take notices of kind.
func (n NoticeSettings) Wants(kind string) bool { return !slices.Contains(n.OptedOut, kind) }

// NoticeSettingsOf reads a user's notice settings.
func (s *Store) NoticeSettingsOf(ctx context.Context, userID int64) (NoticeSettings, error) {
	return readValue(ctx, s, func(tx *sql.Tx) (NoticeSettings, error) {
		return noticeSettings(ctx, tx, userID)
	})
}

func noticeSettings(ctx context.Context, tx *sql.Tx, userID int64) (NoticeSettings, error) {
	var n NoticeSettings
	if err := tx.QueryRowContext(ctx, `SELECT email FROM users WHERE id = ?`, userID).Scan(&n.Email); err != nil {
		if err == sql.ErrNoRows {
			return n, Errorf(ENOTFOUND, "", "There is no such user. It may have been deleted.")
		}
		return n, err
	}
	var err error
	n.OptedOut, err = allRows(ctx, tx, scanString, `SELECT kind FROM notice_optouts WHERE user_id = ? ORDER BY kind`, userID)
	return n, err
}

// SetNoticeSettings sets the actor's own email address and the notices
// they do not want, and records the change.
func (s *Store) SetNoticeSettings(ctx context.Context, actor Actor, in NoticeSettings) (NoticeSettings, error) {
	in.Email = strings.TrimSpace(in.Email)
	if msg := EmailProblem(in.Email); msg != "" {
		return in, &Error{Code: EINVALID, Field: "email", Message: msg}
	}
	var out []string
	for _, k := range in.OptedOut {
		if !slices.Contains(NoticeKinds, k) {
			return in, Errorf(EINVALID, "notices", "There is no kind of notice %q.", k)
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	in.OptedOut = out
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		before, err := noticeSettings(ctx, tx, actor.UserID)
		if err != nil {
			return err
		}
		if before.Email == in.Email && slices.Equal(before.OptedOut, in.OptedOut) {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET email = ?, updated_at = ? WHERE id = ?`, in.Email, now.Unix(), actor.UserID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM notice_optouts WHERE user_id = ?`, actor.UserID); err != nil {
			return err
		}
		for _, k := range in.OptedOut {
			if _, err := tx.ExecContext(ctx, `INSERT INTO notice_optouts (user_id, kind) VALUES (?, ?)`, actor.UserID, k); err != nil {
				return err
			}
		}
		u, err := userByID(ctx, tx, actor.UserID)
		if err != nil {
			return err
		}
		changes := map[string]Change{}
		if before.Email != in.Email {
			changes["email"] = Change{Before: before.Email, After: in.Email}
		}
		if !slices.Equal(before.OptedOut, in.OptedOut) {
			changes["opted_out"] = Change{Before: strings.Join(before.OptedOut, " "), After: strings.Join(in.OptedOut, " ")}
		}
		return s.logEvent(ctx, tx, now, actor, userEvent(ActionNoticesChanged, u, changes, nil))
	})
	return in, err
}
