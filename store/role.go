package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is a named set of rights that users hold.
type Role struct {
	ID        int64
	Name      string
	Builtin   bool // the three roles every console has; they cannot change
	Rights    []Right
	Users     []string // usernames of the users who hold it, sorted
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Has reports whether the role grants r.
func (r Role) Has(right Right) bool { return slices.Contains(r.Rights, right) }

// MaxRoleNameLen bounds role names.
const MaxRoleNameLen = 60

// RoleNameProblem returns what is wrong with a role name, or "".
func RoleNameProblem(name string) string {
	switch {
	case name == "":
		return "Enter a name for the role."
	case utf8.RuneCountInString(name) > MaxRoleNameLen:
		return fmt.Sprintf("Use at most %d characters.", MaxRoleNameLen)
	}
	return TextProblem(name)
}

// RoleInput is what a role form sets.
type RoleInput struct {
	Name   string
	Rights []Right
}

func (in *RoleInput) check() error {
	in.Name = strings.TrimSpace(in.Name)
	if msg := RoleNameProblem(in.Name); msg != "" {
		return &Error{Code: EINVALID, Field: "name", Message: msg}
	}
	rights := slices.Clone(in.Rights)
	slices.Sort(rights)
	in.Rights = slices.Compact(rights)
	for _, r := range in.Rights {
		if !ValidRight(r) {
			return Errorf(EINVALID, "rights", "There is no right %q.", r)
		}
	}
	return nil
}

func checkRoleNameFree(ctx context.Context, tx *sql.Tx, name string, except int64) error {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM roles WHERE name_fold = ?`, foldName(name)).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && id == except):
		return nil
	case err == nil:
		return Errorf(EINVALID, "name", "A role named %q already exists.", name)
	}
	return err
}

// CreateRole adds a custom role.
func (s *Store) CreateRole(ctx context.Context, actor Actor, in RoleInput) (Role, error) {
	if err := actor.wholeTree(); err != nil {
		return Role{}, err
	}
	if err := in.check(); err != nil {
		return Role{}, err
	}
	var r Role
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if err := mayGrant(ctx, tx, actor, in.Rights, "rights"); err != nil {
			return err
		}
		if err := checkRoleNameFree(ctx, tx, in.Name, 0); err != nil {
			return err
		}
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO roles (name, name_fold, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`,
			in.Name, foldName(in.Name), now.Unix(), now.Unix()).Scan(&id)
		if err != nil {
			return err
		}
		if err := setRoleRights(ctx, tx, id, in.Rights); err != nil {
			return err
		}
		if r, err = roleByID(ctx, tx, id); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, now, actor, eventRecord{
			Action: ActionRoleCreated, TargetType: TargetRole, TargetID: strconv.FormatInt(id, 10), TargetName: r.Name,
			Details: map[string]any{"rights": r.Rights},
		})
	})
	return r, err
}

// UpdateRole renames a custom role and sets its rights. The users who hold
// it have the new rights from their next request.
func (s *Store) UpdateRole(ctx context.Context, actor Actor, id int64, in RoleInput) (Role, error) {
	if err := actor.wholeTree(); err != nil {
		return Role{}, err
	}
	if err := in.check(); err != nil {
		return Role{}, err
	}
	var r Role
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		before, err := roleByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.Builtin {
			return Errorf(ECONFLICT, "", "%s is a built-in role; it cannot be changed. Create a role of your own instead.", before.Name)
		}
		if err := mayChangeRole(ctx, tx, actor, before); err != nil {
			return err
		}
		if err := mayGrant(ctx, tx, actor, in.Rights, "rights"); err != nil {
			return err
		}
		if err := checkRoleNameFree(ctx, tx, in.Name, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE roles SET name = ?, name_fold = ?, updated_at = ? WHERE id = ?`,
			in.Name, foldName(in.Name), now.Unix(), id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM role_rights WHERE role_id = ?`, id); err != nil {
			return err
		}
		if err := setRoleRights(ctx, tx, id, in.Rights); err != nil {
			return err
		}
		if r, err = roleByID(ctx, tx, id); err != nil {
			return err
		}
		changes := map[string]Change{}
		if before.Name != r.Name {
			changes["name"] = Change{Before: before.Name, After: r.Name}
		}
		if !slices.Equal(before.Rights, r.Rights) {
			changes["rights"] = Change{Before: before.Rights, After: r.Rights}
		}
		if len(changes) == 0 {
			return nil
		}
		return s.logEvent(ctx, tx, now, actor, eventRecord{
			Action: ActionRoleUpdated, TargetType: TargetRole, TargetID: strconv.FormatInt(id, 10), TargetName: r.Name, Changes: changes,
		})
	})
	return r, err
}

// DeleteRole removes a custom role that nobody holds.
func (s *Store) DeleteRole(ctx context.Context, actor Actor, id int64) (Role, error) {
	if err := actor.wholeTree(); err != nil {
		return Role{}, err
	}
	var r Role
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		var err error
		if r, err = roleByID(ctx, tx, id); err != nil {
			return err
		}
		if r.Builtin {
			return Errorf(ECONFLICT, "", "%s is a built-in role; it cannot be deleted.", r.Name)
		}
		if err := mayChangeRole(ctx, tx, actor, r); err != nil {
			return err
		}
		if len(r.Users) > 0 {
			return Errorf(ECONFLICT, "", "%s is still held by %s. Give them another role first.", r.Name, listNames(r.Users, 5))
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM roles WHERE id = ?`, id); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, now, actor, eventRecord{
			Action: ActionRoleDeleted, TargetType: TargetRole, TargetID: strconv.FormatInt(id, 10), TargetName: r.Name,
			Details: map[string]any{"rights": r.Rights},
		})
	})
	return r, err
}

// listNames writes names as "a, b and c", or "a, b and 3 others" past max.
func listNames(names []string, max int) string {
	if len(names) > max {
		return strings.Join(names[:max-1], ", ") + fmt.Sprintf(" and %d others", len(names)-max+1)
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func setRoleRights(ctx context.Context, tx *sql.Tx, id int64, rights []Right) error {
	for _, r := range rights {
		if _, err := tx.ExecContext(ctx, `INSERT INTO role_rights (role_id, right_name) VALUES (?, ?)`, id, string(r)); err != nil {
			return err
		}
	}
	return nil
}

// roleColumns are the columns scanRole reads; the role's holders are those
// in the scope (roles are shared, their holders are not).
func roleColumns(a *args, sc Scope) string {
	return `r.id, r.name, r.builtin, r.created_at, r.updated_at,
	(SELECT string_agg(right_name, ' ' ORDER BY right_name) FROM role_rights WHERE role_id = r.id),
	(SELECT string_agg(u.username, ' ' ORDER BY u.username) FROM users u
		WHERE u.role_id = r.id AND ` + sc.orgCondition(a, "u.org_id") + `)`
}

func scanRole(row rowScanner) (Role, error) {
	var (
		r                    Role
		createdAt, updatedAt int64
		rights, users        sql.NullString
	)
	if err := row.Scan(&r.ID, &r.Name, &r.Builtin, &createdAt, &updatedAt, &rights, &users); err != nil {
		return Role{}, err
	}
	r.CreatedAt, r.UpdatedAt = time.Unix(createdAt, 0).UTC(), time.Unix(updatedAt, 0).UTC()
	for _, name := range strings.Fields(rights.String) {
		r.Rights = append(r.Rights, Right(name))
	}
	slices.Sort(r.Rights)
	r.Users = strings.Fields(users.String)
	return r, nil
}

// roleByID reads a role with all its holders, for the store's own checks.
func roleByID(ctx context.Context, tx *sql.Tx, id int64) (Role, error) {
	return roleIn(ctx, tx, Scope{}, id)
}

// roleIn reads a role with its holders in the scope.
func roleIn(ctx context.Context, tx *sql.Tx, sc Scope, id int64) (Role, error) {
	var a args
	cols := roleColumns(&a, sc)
	r, err := scanRole(tx.QueryRowContext(ctx, `SELECT `+cols+` FROM roles r WHERE r.id = `+a.add(id), a.list...))
	if errors.Is(err, sql.ErrNoRows) {
		return Role{}, Errorf(ENOTFOUND, "", "There is no such role. It may have been deleted.")
	}
	return r, err
}

// Role returns the role with the given id, naming its holders in the scope.
func (s *Store) Role(ctx context.Context, sc Scope, id int64) (Role, error) {
	return readValue(ctx, s, func(tx *sql.Tx) (Role, error) { return roleIn(ctx, tx, sc, id) })
}

// Roles returns every role, the built-in ones first, then by name, each
// naming its holders in the scope.
func (s *Store) Roles(ctx context.Context, sc Scope) ([]Role, error) {
	return readValue(ctx, s, func(tx *sql.Tx) ([]Role, error) {
		var a args
		cols := roleColumns(&a, sc)
		return allRows(ctx, tx, scanRole, `SELECT `+cols+` FROM roles r ORDER BY r.builtin DESC, r.name_fold`, a.list...)
	})
}

// RoleByName returns the role with the given name, whatever its case.
func (s *Store) RoleByName(ctx context.Context, name string) (Role, error) {
	return readValue(ctx, s, func(tx *sql.Tx) (Role, error) {
		var a args
		cols := roleColumns(&a, Scope{})
		r, err := scanRole(tx.QueryRowContext(ctx, `SELECT `+cols+` FROM roles r WHERE r.name_fold = `+a.add(foldName(strings.TrimSpace(name))), a.list...))
		if errors.Is(err, sql.ErrNoRows) {
			return Role{}, Errorf(ENOTFOUND, "role", "There is no role %q.", name)
		}
		return r, err
	})
}
