package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"
)

// userEvent describes a change to a user for the audit log.
func userEvent(action string, u User, changes map[string]Change, details map[string]any) eventRecord {
	return eventRecord{
		Action: action, TargetType: TargetUser, TargetID: strconv.FormatInt(u.ID, 10), TargetName: u.Username,
		Changes: changes, Details: details, org: u.Scope().orgRow(),
	}
}

// changeUser loads a user in a write transaction, lets fn change it, and
// records the event fn returns, if any.
func (s *Store) changeUser(ctx context.Context, actor Actor, id int64, fn func(tx *sql.Tx, now time.Time, u User) (*eventRecord, error)) (User, error) {
	var u User
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		before, err := scopedUser(ctx, tx, actor.Scope, id)
		if err != nil {
			return err
		}
		if err := mayManage(ctx, tx, actor, before); err != nil {
			return err
		}
		ev, err := fn(tx, now, before)
		if err != nil || ev == nil {
			u = before
			return err
		}
		if u, err = userByID(ctx, tx, id); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, now, actor, *ev)
	})
	return u, err
}

// keepsAnAdministrator refuses a change that would take away the last
// active Administrator: nobody could manage users any more.
func keepsAnAdministrator(ctx context.Context, tx *sql.Tx, u User, what string) error {
	if u.RoleID != RoleAdministrator || u.Disabled() {
		return nil
	}
	var others int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role_id = ? AND disabled_at IS NULL AND id != ?`,
		RoleAdministrator, u.ID).Scan(&others)
	if err != nil {
		return err
	}
	if others == 0 {
		return Errorf(ECONFLICT, "", "%s is the last active Administrator, so they cannot be %s. Make someone else an Administrator first.", u.Username, what)
	}
	return nil
}

// SetUserRole gives a user another role. It takes effect on their next
// request.
func (s *Store) SetUserRole(ctx context.Context, actor Actor, id, roleID int64) (User, error) {
	return s.changeUser(ctx, actor, id, func(tx *sql.Tx, now time.Time, u User) (*eventRecord, error) {
		if u.RoleID == roleID {
			return nil, nil
		}
		if actor.UserID == id {
			return nil, Errorf(EFORBIDDEN, "", "You cannot change your own role. Ask another administrator.")
		}
		role, err := roleByID(ctx, tx, roleID)
		if ErrorCode(err) == ENOTFOUND {
			return nil, Errorf(EINVALID, "role", "There is no such role.")
		} else if err != nil {
			return nil, err
		}
		if err := mayGrant(ctx, tx, actor, role.Rights, "role"); err != nil {
			return nil, err
		}
		if err := keepsAnAdministrator(ctx, tx, u, "given another role"); err != nil {
			return nil, err
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET role_id = ?, session_version = session_version + 1, updated_at = ? WHERE id = ?`,
			roleID, now.Unix(), id)
		ev := userEvent(ActionUserRoleChanged, u, map[string]Change{"role": {Before: u.RoleName, After: role.Name}}, nil)
		return &ev, err
	})
}

// SetUserOrg moves a user to another organization inside the actor's
// scope; never above it, and never oneself (one's own reach would change).
// It takes effect on their next request.
func (s *Store) SetUserOrg(ctx context.Context, actor Actor, id int64, orgID string) (User, error) {
	return s.changeUser(ctx, actor, id, func(tx *sql.Tx, now time.Time, u User) (*eventRecord, error) {
		if orgID == u.OrgID {
			return nil, nil
		}
		if actor.UserID == id {
			return nil, Errorf(EFORBIDDEN, "", "You cannot move yourself to another organization. Ask another administrator.")
		}
		if orgID == "" {
			return nil, Errorf(EINVALID, "org", "Choose an organization.")
		}
		org, err := actor.orgOrOwn(ctx, tx, orgID)
		if err != nil {
			return nil, err
		}
		before, err := orgByRow(ctx, tx, u.Scope().orgRow())
		if err != nil {
			return nil, err
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET org_id = ?, session_version = session_version + 1, updated_at = ? WHERE id = ?`,
			org.rowID, now.Unix(), id)
		ev := userEvent(ActionUserMoved, u, map[string]Change{"organization": {Before: before.Path, After: org.Path}}, nil)
		ev.org = org.rowID
		return &ev, err
	})
}

// DisableUser switches an account off and ends its sessions; EnableUser
// switches it on again.
func (s *Store) DisableUser(ctx context.Context, actor Actor, id int64) (User, error) {
	return s.changeUser(ctx, actor, id, func(tx *sql.Tx, now time.Time, u User) (*eventRecord, error) {
		if u.Disabled() {
			return nil, nil
		}
		if actor.UserID == id {
			return nil, Errorf(ECONFLICT, "", "You cannot disable your own account.")
		}
		if err := keepsAnAdministrator(ctx, tx, u, "disabled"); err != nil {
			return nil, err
		}
		_, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = ?, session_version = session_version + 1, updated_at = ? WHERE id = ?`, now.Unix(), now.Unix(), id)
		ev := userEvent(ActionUserDisabled, u, map[string]Change{"disabled": {Before: false, After: true}}, nil)
		return &ev, err
	})
}

func (s *Store) EnableUser(ctx context.Context, actor Actor, id int64) (User, error) {
	return s.changeUser(ctx, actor, id, func(tx *sql.Tx, now time.Time, u User) (*eventRecord, error) {
		if !u.Disabled() {
			return nil, nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = NULL, updated_at = ? WHERE id = ?`, now.Unix(), id)
		ev := userEvent(ActionUserEnabled, u, map[string]Change{"disabled": {Before: true, After: false}}, nil)
		return &ev, err
	})
}

// DeleteUser removes an account. The keys it created stay, and so do the
// events it made.
func (s *Store) DeleteUser(ctx context.Context, actor Actor, id int64) (User, error) {
	return s.changeUser(ctx, actor, id, func(tx *sql.Tx, now time.Time, u User) (*eventRecord, error) {
		if actor.UserID == id {
			return nil, Errorf(ECONFLICT, "", "You cannot delete your own account.")
		}
		if err := keepsAnAdministrator(ctx, tx, u, "deleted"); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id); err != nil {
			return nil, err
		}
		ev := userEvent(ActionUserDeleted, u, nil, map[string]any{"role": u.RoleName})
		// The user is gone; log the event without reading it back.
		return nil, s.logEvent(ctx, tx, now, actor, ev)
	})
}

// ResetPassword sets another user's password, as an administrator does,
// and ends that user's sessions.
func (s *Store) ResetPassword(ctx context.Context, actor Actor, id int64, password string) (User, error) {
	if actor.UserID == id {
		// One's own password needs the current one: ChangePassword asks for it.
		return User{}, Errorf(ECONFLICT, "", "Change your own password on your profile, where the current one is asked for.")
	}
	return s.setPassword(ctx, actor, id, password, ActionPasswordReset)
}

// SetPasswordByName sets a password from the command line, where users are
// known by name. Like every reset, it clears the user's failed logins.
func (s *Store) SetPasswordByName(ctx context.Context, actor Actor, username, password string) (User, error) {
	id, err := s.userIDByName(ctx, username)
	if err != nil {
		return User{}, err
	}
	return s.setPassword(ctx, actor, id, password, ActionPasswordReset)
}

// userIDByName finds a user by the name typed on the command line.
func (s *Store) userIDByName(ctx context.Context, username string) (int64, error) {
	var id int64
	err := s.reader.QueryRowContext(ctx, `SELECT id FROM users WHERE username = ?`, strings.ToLower(strings.TrimSpace(username))).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, Errorf(ENOTFOUND, "username", "There is no user %q.", LoginName(username))
	}
	return id, err
}

// ActionUserUnlocked records that a user's failed logins were cleared.
const ActionUserUnlocked = "user.unlocked"

// UnlockUser clears every failed login against a user, from every address,
// so that no throttle holds them back; it returns how many it cleared.
func (s *Store) UnlockUser(ctx context.Context, actor Actor, username string) (int64, error) {
	id, err := s.userIDByName(ctx, username)
	if err != nil {
		return 0, err
	}
	var n int64
	_, err = s.changeUser(ctx, actor, id, func(tx *sql.Tx, now time.Time, u User) (*eventRecord, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE username = ?`, u.Username)
		if err != nil {
			return nil, err
		}
		if n, err = res.RowsAffected(); err != nil {
			return nil, err
		}
		ev := userEvent(ActionUserUnlocked, u, nil, map[string]any{"failures_cleared": n})
		return &ev, nil
	})
	return n, err
}

// ChangePassword changes a user's own password; the current one must match.
// Checking it is throttled like a login, from actor.ClientAddr. The user's
// other sessions end, since the new password should be needed everywhere.
func (s *Store) ChangePassword(ctx context.Context, actor Actor, id int64, current, password string) (User, error) {
	u, hash, err := s.userWithHash(ctx, "u.id = ?", id)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, Errorf(ENOTFOUND, "", "There is no such user.")
	} else if err != nil {
		return User{}, err
	}
	unlock, err := s.checkCurrentPassword(ctx, actor, u, hash, current)
	if err != nil {
		return User{}, err
	}
	defer unlock()
	if current == password {
		return User{}, &Error{Code: EINVALID, Field: "password", Message: "Choose a password different from the current one."}
	}
	return s.setPassword(ctx, actor, id, password, ActionPasswordChanged)
}

func (s *Store) setPassword(ctx context.Context, actor Actor, id int64, password, action string) (User, error) {
	target, err := s.User(ctx, actor.Scope, id)
	if err != nil {
		return User{}, err
	}
	if msg := PasswordProblem(target.Username, password); msg != "" {
		return User{}, &Error{Code: EINVALID, Field: "password", Message: msg}
	}
	hash, err := s.newPasswordHash(ctx, password)
	if err != nil {
		return User{}, err
	}
	return s.changeUser(ctx, actor, id, func(tx *sql.Tx, now time.Time, u User) (*eventRecord, error) {
		_, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_changed_at = ?, updated_at = ?,
			session_version = session_version + 1, first_password = 0 WHERE id = ?`, hash, now.Unix(), now.Unix(), id)
		if err != nil {
			return nil, err
		}
		if action == ActionPasswordReset {
			// A reset is the way back in for someone locked out: their
			// failed logins no longer hold them back.
			if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE username = ?`, u.Username); err != nil {
				return nil, err
			}
		}
		ev := userEvent(action, u, nil, nil)
		return &ev, nil
	})
}

// EndSessions invalidates every session of the user, as logout does.
func (s *Store) EndSessions(ctx context.Context, actor Actor, id int64) error {
	_, err := s.changeUser(ctx, actor, id, func(tx *sql.Tx, now time.Time, u User) (*eventRecord, error) {
		_, err := tx.ExecContext(ctx, `UPDATE users SET session_version = session_version + 1 WHERE id = ?`, id)
		ev := userEvent(ActionLogout, u, nil, nil)
		return &ev, err
	})
	return err
}

// Users returns the users whose username, display name or role contains
// search (all when it is empty), by username.
func (s *Store) Users(ctx context.Context, sc Scope, search string) ([]User, error) {
	var a args
	p := a.add(likePattern(strings.ToLower(strings.TrimSpace(search))))
	inScope := sc.orgCondition(&a, "u.org_id")
	return readValue(ctx, s, func(tx *sql.Tx) ([]User, error) {
		return allRows(ctx, tx, func(r rowScanner) (User, error) { return scanUser(r) }, `SELECT `+userColumns+`
			FROM users u JOIN roles r ON r.id = u.role_id
			WHERE `+inScope+` AND (u.username LIKE `+p+` ESCAPE '\' OR lower(u.display_name) LIKE `+p+` ESCAPE '\'
				OR lower(r.name) LIKE `+p+` ESCAPE '\')
			ORDER BY u.username`, a.list...)
	})
}
