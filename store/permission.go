package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// Permission is an entry of the catalog that keys take their permissions from.
type Permission struct {
	Name        string
	Description string
}

// Permissions returns the catalog, sorted by name.
func (s *Store) Permissions(ctx context.Context) ([]Permission, error) {
	return readValue(ctx, s, func(tx *sql.Tx) ([]Permission, error) {
		return allRows(ctx, tx, func(r rowScanner) (Permission, error) {
			var p Permission
			err := r.Scan(&p.Name, &p.Description)
			return p, err
		}, `SELECT name, description FROM permissions ORDER BY name`)
	})
}

// PermissionUse is a catalog entry with the number of keys that have it.
type PermissionUse struct {
	Permission
	Keys int
}

// PermissionUses returns the catalog with each permission's key count.
// Keys counts those in the scope.
func (s *Store) PermissionUses(ctx context.Context, sc Scope) ([]PermissionUse, error) {
	var a args
	count := `(SELECT count(*) FROM key_permissions kp WHERE kp.permission_id = p.id)`
	if !sc.Whole() {
		count = `(SELECT count(*) FROM key_permissions kp JOIN keys k ON k.id = kp.key_id
			WHERE kp.permission_id = p.id AND ` + sc.orgCondition(&a, "k.org_id") + `)`
	}
	return readValue(ctx, s, func(tx *sql.Tx) ([]PermissionUse, error) {
		return allRows(ctx, tx, func(r rowScanner) (PermissionUse, error) {
			var p PermissionUse
			err := r.Scan(&p.Name, &p.Description, &p.Keys)
			return p, err
		}, `SELECT p.name, p.description, `+count+` FROM permissions p ORDER BY p.name`, a.list...)
	})
}

// PermissionNameProblem returns what is wrong with a permission name, or "".
func PermissionNameProblem(name string) string {
	if name == "" || len(name) > 40 {
		return "Use 1 to 40 characters."
	}
	// A last segment of "*" grants every permission under the rest:
	// nexus:cluster:* grants nexus:cluster:admin.
	if prefix, ok := strings.CutSuffix(name, ":*"); ok && prefix != "" {
		name = prefix
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || i > 0 && strings.ContainsRune("._:-", r)
		if !ok {
			return "Use lowercase letters, digits, and . _ : - (not first), and :* at the end for every permission under the rest."
		}
	}
	return ""
}

// CreatePermission adds a permission to the catalog.
func (s *Store) CreatePermission(ctx context.Context, actor Actor, p Permission) (Permission, error) {
	if err := actor.wholeTree(); err != nil {
		return p, err
	}
	p.Name = strings.ToLower(strings.TrimSpace(p.Name))
	p.Description = strings.TrimSpace(p.Description)
	if msg := PermissionNameProblem(p.Name); msg != "" {
		return p, &Error{Code: EINVALID, Field: "permission_name", Message: msg}
	}
	if p.Description == "" || utf8.RuneCountInString(p.Description) > 200 {
		return p, &Error{Code: EINVALID, Field: "permission_description", Message: "Say in up to 200 characters what the permission allows."}
	}
	if msg := TextProblem(p.Description); msg != "" {
		return p, &Error{Code: EINVALID, Field: "permission_description", Message: msg}
	}
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM permissions WHERE name = ?`, p.Name).Scan(&one); err == nil {
			return Errorf(EINVALID, "permission_name", "The permission %q exists already.", p.Name)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO permissions (name, description) VALUES (?, ?)`, p.Name, p.Description); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, now, actor, eventRecord{Action: ActionPermissionCreated, TargetType: TargetPermission,
			TargetID: p.Name, TargetName: p.Name, Details: map[string]any{"description": p.Description}})
	})
	return p, err
}

// DeletePermission removes a permission that no key has.
func (s *Store) DeletePermission(ctx context.Context, actor Actor, name string) error {
	if err := actor.wholeTree(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM permissions WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return Errorf(ENOTFOUND, "", "There is no permission %q.", name)
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM key_permissions WHERE permission_id = (SELECT id FROM permissions WHERE name = ?)`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return Errorf(ECONFLICT, "", "%d keys have the permission %q, and a key's permissions never change. Delete those keys first.", n, name)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM permissions WHERE name = ?`, name); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, now, actor, eventRecord{Action: ActionPermissionDeleted, TargetType: TargetPermission, TargetID: name, TargetName: name})
	})
}

// Grants reports whether a key's permissions grant the one asked for:
// one of them is it, or ends in ":*" and the one asked for starts with
// the rest (nexus:cluster:* grants nexus:cluster:admin, and
// nexus:cluster:read:all, but not nexus:clusters). It does not allocate:
// verification calls it.
func Grants(held []string, asked string) bool {
	for _, p := range held {
		if p == asked {
			return true
		}
		if prefix, ok := strings.CutSuffix(p, "*"); ok && strings.HasSuffix(prefix, ":") && len(asked) > len(prefix) && strings.HasPrefix(asked, prefix) {
			return true
		}
	}
	return false
}
