package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// User is a person who logs in to the console. The password hash never
// leaves the store.
type User struct {
	ID             int64
	Username       string
	DisplayName    string
	RoleID         int64
	RoleName       string
	Rights         []Right
	DisabledAt     time.Time // zero: active
	SessionVersion int64
	CreatedAt      time.Time
	CreatedBy      string
	UpdatedAt      time.Time
	LastLoginAt    time.Time
	// FirstPassword is set while the user still has the password that
	// first-start set-up printed.
	FirstPassword bool
	// OrgID is the public id of the user's organization: they see and act
	// on it and everything below it.
	OrgID  string
	orgIDs string
}

// Can reports whether the user holds every one of rights.
func (u User) Can(rights ...Right) bool {
	for _, r := range rights {
		if !slices.Contains(u.Rights, r) {
			return false
		}
	}
	return true
}

// Disabled reports whether the account is switched off.
func (u User) Disabled() bool { return !u.DisabledAt.IsZero() }

// Built-in role ids, fixed by the first migration.
const (
	RoleAdministrator int64 = 1
	RoleKeyManager    int64 = 2
	RoleViewer        int64 = 3
)

// MaxUsernameLen bounds usernames.
const MaxUsernameLen = 64

// UsernameProblem returns what is wrong with a username, or "". Usernames are
// lowercase so that they compare simply and read the same everywhere.
func UsernameProblem(username string) string {
	if username == "" {
		return "Enter a username."
	}
	if utf8.RuneCountInString(username) > MaxUsernameLen {
		return "Use at most 64 characters."
	}
	for i, r := range username {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || i > 0 && (r == '.' || r == '_' || r == '-')
		if !ok {
			return "Use lowercase letters, digits, and . _ - (not first)."
		}
	}
	return ""
}

// NewUser is the input for creating a user.
type NewUser struct {
	Username    string
	DisplayName string
	Password    string
	RoleID      int64
	// Org is the public id of the user's organization; empty is the
	// creator's own.
	Org string
	// Email is where their notices go; empty for none.
	Email string

	firstPassword bool // the password first-start set-up printed
}

// CreateUser adds a user.
func (s *Store) CreateUser(ctx context.Context, actor Actor, in NewUser) (User, error) {
	if holdsKey(in.Username) {
		// Checked as typed: lowercasing would hide the key, and keep it.
		return User{}, &Error{Code: EINVALID, Field: "username", Message: "This is an API key, not a username. Type another username, and revoke the key if others could see it."}
	}
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	if msg := UsernameProblem(in.Username); msg != "" {
		return User{}, &Error{Code: EINVALID, Field: "username", Message: msg}
	}
	if msg := TextProblem(in.DisplayName); msg != "" {
		return User{}, &Error{Code: EINVALID, Field: "display_name", Message: msg}
	}
	if msg := PasswordProblem(in.Username, in.Password); msg != "" {
		return User{}, &Error{Code: EINVALID, Field: "password", Message: msg}
	}
	in.Email = strings.TrimSpace(in.Email)
	if msg := EmailProblem(in.Email); msg != "" {
		return User{}, &Error{Code: EINVALID, Field: "email", Message: msg}
	}
	hash, err := s.newPasswordHash(ctx, in.Password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE username = ?`, in.Username).Scan(&one)
		if err == nil {
			return Errorf(EINVALID, "username", "The username %q is taken.", in.Username)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		role, err := roleByID(ctx, tx, in.RoleID)
		if ErrorCode(err) == ENOTFOUND {
			return Errorf(EINVALID, "role", "There is no such role.")
		} else if err != nil {
			return err
		}
		if err := mayGrant(ctx, tx, actor, role.Rights, "role"); err != nil {
			return err
		}
		org, err := actor.orgOrOwn(ctx, tx, in.Org)
		if err != nil {
			return err
		}
		var id int64
		err = tx.QueryRowContext(ctx, `
			INSERT INTO users (username, display_name, password_hash, role_id, created_at, created_by, updated_at, password_changed_at, first_password, org_id, email)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			in.Username, in.DisplayName, hash, in.RoleID, now.Unix(), actor.Username, now.Unix(), now.Unix(), in.firstPassword, org.rowID, in.Email).Scan(&id)
		if err != nil {
			return err
		}
		if u, err = userByID(ctx, tx, id); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, now, actor, userEvent(ActionUserCreated, u, nil, map[string]any{"role": u.RoleName, "display_name": u.DisplayName}))
	})
	return u, err
}

const userColumns = `u.id, u.username, u.display_name, u.role_id, r.name, u.disabled_at,
	u.session_version, u.created_at, u.created_by, u.updated_at, u.last_login_at, u.first_password,
	(SELECT string_agg(right_name, ' ' ORDER BY right_name) FROM role_rights WHERE role_id = u.role_id),
	(SELECT public_id FROM organizations WHERE id = u.org_id), (SELECT path FROM organizations WHERE id = u.org_id)`

func scanUser(row rowScanner, extra ...any) (User, error) {
	var (
		u                     User
		disabledAt, lastLogin sql.NullInt64
		createdAt, updatedAt  int64
		rights                sql.NullString
	)
	dest := append([]any{&u.ID, &u.Username, &u.DisplayName, &u.RoleID, &u.RoleName, &disabledAt,
		&u.SessionVersion, &createdAt, &u.CreatedBy, &updatedAt, &lastLogin, &u.FirstPassword, &rights,
		&u.OrgID, &u.orgIDs}, extra...)
	if err := row.Scan(dest...); err != nil {
		return User{}, err
	}
	u.DisabledAt = fromUnix(disabledAt)
	u.LastLoginAt = fromUnix(lastLogin)
	u.CreatedAt = time.Unix(createdAt, 0).UTC()
	u.UpdatedAt = time.Unix(updatedAt, 0).UTC()
	for _, r := range strings.Fields(rights.String) {
		u.Rights = append(u.Rights, Right(r))
	}
	slices.Sort(u.Rights)
	return u, nil
}

func userByID(ctx context.Context, tx *sql.Tx, id int64) (User, error) {
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u JOIN roles r ON r.id = u.role_id WHERE u.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, Errorf(ENOTFOUND, "", "There is no such user. It may have been deleted.")
	}
	return u, err
}

// User returns the user with the given id, if they are in the scope.
func (s *Store) User(ctx context.Context, sc Scope, id int64) (User, error) {
	return readValue(ctx, s, func(tx *sql.Tx) (User, error) { return scopedUser(ctx, tx, sc, id) })
}

// scopedUser reads a user who is in the scope: anyone else does not exist
// for the caller.
func scopedUser(ctx context.Context, tx *sql.Tx, sc Scope, id int64) (User, error) {
	u, err := userByID(ctx, tx, id)
	if err == nil && !sc.contains(u.orgIDs) {
		return User{}, Errorf(ENOTFOUND, "", "There is no such user. It may have been deleted.")
	}
	return u, err
}

// CreateFirstAdmin creates the user "admin", an Administrator, when there
// are no users at all. The password is the one given, or a generated one
// when that is empty; it is returned so that it can be shown once. Only a
// generated password marks the user as still having the printed password:
// one that was given was chosen by whoever started Keydesk.
func (s *Store) CreateFirstAdmin(ctx context.Context, password string) (string, bool, error) {
	n, err := s.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", false, err
	}
	generated := password == ""
	if generated {
		password = NewPassword()
	}
	_, err = s.CreateUser(ctx, SystemActor("setup"), NewUser{
		Username: "admin", DisplayName: "Administrator", Password: password, RoleID: RoleAdministrator, firstPassword: generated,
	})
	if err != nil {
		if n, _ := s.CountUsers(ctx); n > 0 && ErrorCode(err) == EINVALID {
			// Another instance, started at the same time, made the first
			// administrator before this one could.
			return "", false, nil
		}
		return "", false, fmt.Errorf("create the first administrator: %w", err)
	}
	return password, true, nil
}

// CountUsers returns how many users there are.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, err
}

// ErrBadLogin is the one answer to every failed login, whatever the reason,
// so that it tells nobody which usernames exist.
var ErrBadLogin = &Error{Code: EINVALID, Message: "The username or password is not right."}

// Authenticate returns the active user with this username and password. A
// wrong password, an unknown user and a disabled account all give
// ErrBadLogin, after the same amount of work. It is not throttled: forms
// that ask for a password go through Login, or through ChangePassword.
func (s *Store) Authenticate(ctx context.Context, username, password string) (User, error) {
	return s.authenticate(ctx, LoginName(username), password)
}

// authenticate is Authenticate for a name that LoginName has made.
func (s *Store) authenticate(ctx context.Context, username, password string) (User, error) {
	u, hash, err := s.userWithHash(ctx, "u.username = ?", username)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := s.passwordMatches(ctx, dummyHash, password); err != nil {
			return User{}, err
		}
		return User{}, ErrBadLogin
	case err != nil:
		return User{}, err
	}
	ok, err := s.passwordMatches(ctx, hash, password)
	if err != nil {
		return User{}, err
	}
	if !ok || u.Disabled() {
		return User{}, ErrBadLogin
	}
	return u, nil
}

// userWithHash reads the one user that where (a condition on u, with one
// placeholder) selects, with their password hash, which no other read
// returns. where is a constant of this package.
func (s *Store) userWithHash(ctx context.Context, where string, arg any) (User, string, error) {
	var hash string
	u, err := readValue(ctx, s, func(tx *sql.Tx) (User, error) {
		return scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+`, u.password_hash
			FROM users u JOIN roles r ON r.id = u.role_id WHERE `+where, arg), &hash)
	})
	return u, hash, err
}
