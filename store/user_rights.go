package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
)

// Nobody can hand out more than they hold: a user who manages users but is
// not an Administrator must not be able to make anyone (themselves through
// a second account included) an Administrator, nor take over an account
// that holds more rights than they do. These checks are the one place that
// rule lives; the command line (UserID 0) is trusted, as it needs the
// database file.

// actorRights returns the rights of the person behind actor, and false for
// the command line and the system, which are not limited.
func actorRights(ctx context.Context, tx *sql.Tx, actor Actor) ([]Right, bool, error) {
	if actor.UserID == 0 {
		return nil, false, nil
	}
	u, err := userByID(ctx, tx, actor.UserID)
	if err != nil {
		return nil, false, err
	}
	return u.Rights, true, nil
}

// missingRights lists the rights in want that held lacks.
func missingRights(held, want []Right) []string {
	var missing []string
	for _, r := range want {
		if !slices.Contains(held, r) {
			missing = append(missing, string(r))
		}
	}
	return missing
}

// mayGrant refuses to let actor give out rights they do not hold; field
// is the form field the message belongs beside.
func mayGrant(ctx context.Context, tx *sql.Tx, actor Actor, rights []Right, field string) error {
	held, limited, err := actorRights(ctx, tx, actor)
	if err != nil || !limited {
		return err
	}
	if missing := missingRights(held, rights); len(missing) > 0 {
		return Errorf(EINVALID, field, "You cannot grant rights you do not hold yourself: %s.", strings.Join(missing, ", "))
	}
	return nil
}

// mayManage refuses to let actor change a user who holds rights that the
// actor does not: resetting their password or changing their role would
// hand the actor those rights. Everyone may change themselves, within the
// limits of each change.
func mayManage(ctx context.Context, tx *sql.Tx, actor Actor, target User) error {
	if actor.UserID == target.ID {
		return nil
	}
	held, limited, err := actorRights(ctx, tx, actor)
	if err != nil || !limited {
		return err
	}
	if missing := missingRights(held, target.Rights); len(missing) > 0 {
		return Errorf(EFORBIDDEN, "", "%s holds rights that you do not (%s), so you cannot change their account.", target.Username, strings.Join(missing, ", "))
	}
	return nil
}

// mayChangeRole refuses to let actor change or delete a role that grants
// rights they do not hold.
func mayChangeRole(ctx context.Context, tx *sql.Tx, actor Actor, r Role) error {
	held, limited, err := actorRights(ctx, tx, actor)
	if err != nil || !limited {
		return err
	}
	if missing := missingRights(held, r.Rights); len(missing) > 0 {
		return Errorf(EFORBIDDEN, "", "The role %s grants rights that you do not hold (%s), so you cannot change it.", r.Name, strings.Join(missing, ", "))
	}
	return nil
}

// wholeTree refuses a console-wide change (roles, the permission catalog,
// the audit log's retention) to anyone whose scope is not the whole tree:
// an organization's administrator changes their organization, not the
// console every tenant shares.
func (actor Actor) wholeTree() error {
	if actor.Scope.Whole() {
		return nil
	}
	return Errorf(EFORBIDDEN, "", "Roles, the permission catalog and console settings are changed by administrators of the root organization.")
}
