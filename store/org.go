package store

import (
	"cmp"
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

// RootOrg is the row id of the root organization, made by the first
// migration. Keys at the root are cluster keys: valid for every
// organization.
const RootOrg int64 = 1

// Org is an organization: a node of the tree that keys, users and events
// belong to.
type Org struct {
	rowID    int64
	ID       string // public id, used in URLs, the API and the CLI
	ParentID string // "" for the root
	Name     string
	// Path names the organization from the root: "Default/Acme/EU".
	Path  string
	Depth int // 0 for the root
	// Policy is the organization's own settings; Effective is the
	// strictest along its path to the root, which is what applies.
	Policy    Policy
	Effective Policy
	Keys      int // keys at the organization itself
	Users     int // users at the organization itself
	Children  int
	CreatedAt time.Time
	UpdatedAt time.Time

	ids string // row ids from the root: "/1/7/12/"
}

// IsRoot reports whether o is the root of the tree.
func (o Org) IsRoot() bool { return o.rowID == RootOrg }

// Policy is an organization's tenant policy. Zero numbers mean no limit.
type Policy struct {
	APIKeysEnabled bool
	MaxExpiryDays  int // new keys and extensions must expire within this many days
	MaxKeysPerUser int // available keys one user may have created here
	// RecoverableKeys keeps the secrets of keys here encrypted as well, so
	// that someone with the right can show them again. On at an
	// organization, it is on below it: the keys of a subtree are
	// recoverable when the organization above decided so.
	RecoverableKeys bool
	// RotateEveryDays is the rotation schedule new keys here start with;
	// 0 for none.
	RotateEveryDays int
	// GraceDays is how long a rotated secret keeps working, when GraceSet
	// (0 is a grace period too: none); see Grace.
	GraceDays int
	GraceSet  bool
	// DeleteAfterDays deletes the keys here this many days after they
	// expired or were revoked; 0 keeps them.
	DeleteAfterDays int
	// NoticeDays are the days before a key's expiry that notices go out,
	// as NoticeDaysText writes them; "" for DefaultNoticeDays. The
	// nearest organization that sets them decides.
	NoticeDays string
	// SpikeMultiple and SpikeFloor make an hour of a key's use a spike:
	// above SpikeMultiple times its usual hourly use and above SpikeFloor
	// verifications. 0 takes them from above, else the defaults; the
	// nearest organization that sets them decides.
	SpikeMultiple int
	SpikeFloor    int
}

// Spike is the multiple and the floor that make an hour a usage spike
// under the policy.
func (p Policy) Spike() (multiple, floor int) {
	return cmp.Or(p.SpikeMultiple, DefaultSpikeMultiple), cmp.Or(p.SpikeFloor, DefaultSpikeFloor)
}

// Grace is the grace period of a rotation under the policy, in days.
func (p Policy) Grace() int {
	if p.GraceSet {
		return p.GraceDays
	}
	return DefaultGraceDays
}

// Policy limits.
const (
	MaxKeysPerUserLimit = 1000
	MaxExpiryDaysLimit  = 36500
	MaxRotateEveryDays  = 3650
	MaxDeleteAfterDays  = 3650
	MaxSpikeMultiple    = 1000
	MaxSpikeFloor       = 100_000_000
	// DefaultSpikeMultiple and DefaultSpikeFloor make a spike unless an
	// organization's policy says otherwise.
	DefaultSpikeMultiple = 10
	DefaultSpikeFloor    = 1000
	MaxOrgNameLen        = 60
)

// Problems returns what is wrong with the numbers of a policy, one error
// per field, each saying what to enter instead.
func (p Policy) Problems() []*Error {
	var out []*Error
	check := func(bad bool, field, format string, a ...any) {
		if bad {
			out = append(out, Errorf(EINVALID, field, format, a...))
		}
	}
	check(p.MaxExpiryDays < 0 || p.MaxExpiryDays > MaxExpiryDaysLimit, "max_expiry_days",
		"Enter a number of days from 1 to %s, or leave it empty for no limit.", Thousands(MaxExpiryDaysLimit))
	check(p.MaxKeysPerUser < 0 || p.MaxKeysPerUser > MaxKeysPerUserLimit, "max_keys_per_user",
		"Enter a number from 1 to %s, or leave it empty for no limit.", Thousands(MaxKeysPerUserLimit))
	check(RotateEveryProblem(p.RotateEveryDays) != "", "rotate_every_days",
		"Enter a number of days from 1 to %s, or leave it empty for no schedule.", Thousands(MaxRotateEveryDays))
	check(p.GraceSet && GraceProblem(p.GraceDays) != "", "grace_days",
		"Enter a number of days from 0 to %d, or leave it empty for the default (%d).", MaxGraceDays, DefaultGraceDays)
	check(p.DeleteAfterDays < 0 || p.DeleteAfterDays > MaxDeleteAfterDays, "delete_after_days",
		"Enter a number of days from 1 to %s, or leave it empty to keep expired and revoked keys.", Thousands(MaxDeleteAfterDays))
	check(p.SpikeMultiple != 0 && (p.SpikeMultiple < 2 || p.SpikeMultiple > MaxSpikeMultiple), "spike_multiple",
		"Enter a multiple from 2 to %s, or leave it empty for %d.", Thousands(MaxSpikeMultiple), DefaultSpikeMultiple)
	check(p.SpikeFloor < 0 || p.SpikeFloor > MaxSpikeFloor, "spike_floor",
		"Enter a number of verifications from 1 to %s, or leave it empty for %s.", Thousands(MaxSpikeFloor), Thousands(DefaultSpikeFloor))
	if _, err := ParseNoticeDays(p.NoticeDays); err != nil {
		out = append(out, err.(*Error))
	}
	return out
}

// stricter returns the strictest of two policies, field by field: p is
// the one above, q the one below. Notice days and spike thresholds are
// not limits: the nearest organization that sets them decides.
func (p Policy) stricter(q Policy) Policy {
	limit := func(a, b int) int {
		switch {
		case a == 0:
			return b
		case b == 0:
			return a
		}
		return min(a, b)
	}
	grace, set := p.GraceDays, p.GraceSet
	if q.GraceSet && (!set || q.GraceDays < grace) {
		grace, set = q.GraceDays, true
	}
	notices := q.NoticeDays
	if notices == "" {
		notices = p.NoticeDays
	}
	return Policy{
		DeleteAfterDays: limit(p.DeleteAfterDays, q.DeleteAfterDays),
		NoticeDays:      notices,
		SpikeMultiple:   cmp.Or(q.SpikeMultiple, p.SpikeMultiple),
		SpikeFloor:      cmp.Or(q.SpikeFloor, p.SpikeFloor),
		APIKeysEnabled:  p.APIKeysEnabled && q.APIKeysEnabled,
		MaxExpiryDays:   limit(p.MaxExpiryDays, q.MaxExpiryDays),
		MaxKeysPerUser:  limit(p.MaxKeysPerUser, q.MaxKeysPerUser),
		RecoverableKeys: p.RecoverableKeys || q.RecoverableKeys,
		RotateEveryDays: limit(p.RotateEveryDays, q.RotateEveryDays),
		GraceDays:       grace,
		GraceSet:        set,
	}
}

// Scope is the part of the organization tree a caller may see and change:
// an organization and everything below it. Everything outside it does not
// exist for them: reading or changing it is ErrNotFound, so that ids do not
// leak. The zero Scope is the whole tree, for the command line and the
// system.
type Scope struct {
	ids string // the organization's ids path, "" for the whole tree
}

// contains reports whether the organization with this ids path is inside
// the scope.
func (sc Scope) contains(ids string) bool { return strings.HasPrefix(ids, sc.ids) }

// Whole reports whether the scope is the whole tree.
func (sc Scope) Whole() bool { return sc.ids == "" || sc.ids == "/"+strconv.FormatInt(RootOrg, 10)+"/" }

// orgCondition is an SQL condition that column (an organization row id) is
// inside the scope; "1" for the whole tree. A subtree is one range of the
// index on path: every path below "/1/7/" sorts before "/1/70" ('/' comes
// just before '0', and paths hold only digits and '/').
func (sc Scope) orgCondition(a *args, column string) string {
	if sc.Whole() {
		return "TRUE"
	}
	end := sc.ids[:len(sc.ids)-1] + "0"
	return column + " IN (SELECT id FROM organizations WHERE path >= " + a.add(sc.ids) + " AND path < " + a.add(end) + ")"
}

// orgScope is the scope of someone at the organization with this ids path.
func orgScope(ids string) Scope { return Scope{ids: ids} }

// parentRow is the row id of the parent of the organization with this ids
// path; 0 for the root, which has none.
func parentRow(ids string) int64 {
	parts := strings.Split(strings.Trim(ids, "/"), "/")
	if len(parts) < 2 {
		return 0
	}
	row, _ := strconv.ParseInt(parts[len(parts)-2], 10, 64)
	return row
}

// orgRow is the row id of the scope's top organization: the root for the
// whole tree.
func (sc Scope) orgRow() int64 {
	ids := strings.Split(strings.Trim(sc.ids, "/"), "/")
	row, err := strconv.ParseInt(ids[len(ids)-1], 10, 64)
	if err != nil {
		return RootOrg
	}
	return row
}

// Scope is the part of the tree the user may see: their organization and
// below. A User that was not read from the store (nobody logged in) sees
// nothing: the zero Scope is for the command line only.
func (u User) Scope() Scope {
	if u.orgIDs == "" {
		return Scope{ids: "-"} // no path starts with "-"
	}
	return orgScope(u.orgIDs)
}

// OrgNameProblem returns what is wrong with an organization's name, or "".
func OrgNameProblem(name string) string {
	switch {
	case name == "":
		return "Enter a name for the organization."
	case utf8.RuneCountInString(name) > MaxOrgNameLen:
		return fmt.Sprintf("Use at most %d characters.", MaxOrgNameLen)
	case strings.Contains(name, "/"):
		return "A name cannot contain /: it separates organizations in a path."
	}
	return TextProblem(name)
}

const orgColumns = `o.id, o.public_id, coalesce(p.public_id, ''), o.name, o.path, o.api_keys_enabled,
	coalesce(o.max_expiry_days, 0), coalesce(o.max_keys_per_user, 0), o.recoverable_keys,
	coalesce(o.rotate_every_days, 0), o.grace_days, coalesce(o.delete_after_days, 0), o.notice_days,
	coalesce(o.spike_multiple, 0), coalesce(o.spike_floor, 0), o.created_at, o.updated_at`

// orgTree reads every organization in the scope, in tree order (a parent
// before its children, siblings by name), with names, paths, effective
// policies and children filled in; keys and users are counted by
// withCounts, which only pages that show them need. Organizations are few
// (thousands at most), so the tree is read whole.
func orgTree(ctx context.Context, tx *sql.Tx, sc Scope) ([]Org, error) {
	all, err := readOrgs(ctx, tx, "")
	if err != nil {
		return nil, err
	}
	foldOrgs(all)
	// Tree order with siblings by name: sort by the chain of names, folded
	// once per organization rather than once per comparison.
	all = slices.DeleteFunc(all, func(o Org) bool { return !sc.contains(o.ids) })
	keys := make([]string, len(all))
	order := make([]int, len(all))
	for i := range all {
		keys[i], order[i] = strings.ToLower(all[i].Path), i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	sorted := make([]Org, len(all))
	for i, j := range order {
		sorted[i] = all[j]
	}
	return sorted, nil
}

// readOrgs reads the organizations that where selects (all of them when
// it is empty), a parent before its children.
func readOrgs(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]Org, error) {
	return allRows(ctx, tx, func(r rowScanner) (Org, error) {
		var o Org
		var created, updated int64
		var grace sql.NullInt64
		err := r.Scan(&o.rowID, &o.ID, &o.ParentID, &o.Name, &o.ids, &o.Policy.APIKeysEnabled,
			&o.Policy.MaxExpiryDays, &o.Policy.MaxKeysPerUser, &o.Policy.RecoverableKeys,
			&o.Policy.RotateEveryDays, &grace, &o.Policy.DeleteAfterDays, &o.Policy.NoticeDays,
			&o.Policy.SpikeMultiple, &o.Policy.SpikeFloor, &created, &updated)
		o.Policy.GraceDays, o.Policy.GraceSet = int(grace.Int64), grace.Valid
		o.CreatedAt, o.UpdatedAt = time.Unix(created, 0).UTC(), time.Unix(updated, 0).UTC()
		return o, err
	}, `SELECT `+orgColumns+` FROM organizations o LEFT JOIN organizations p ON p.id = o.parent_id `+where+` ORDER BY o.path`, args...)
}

// foldOrgs fills in each organization's depth, path and effective policy
// from its parent's, and counts each one's children, in orgs as readOrgs
// returns them: a parent before its children.
func foldOrgs(orgs []Org) {
	byRow := make(map[int64]*Org, len(orgs))
	for i := range orgs {
		byRow[orgs[i].rowID] = &orgs[i]
	}
	for i := range orgs {
		o := &orgs[i]
		ids := strings.Split(strings.Trim(o.ids, "/"), "/")
		o.Depth = len(ids) - 1
		o.Path, o.Effective = o.Name, o.Policy
		if o.Depth > 0 {
			parentRow, _ := strconv.ParseInt(ids[len(ids)-2], 10, 64)
			if p := byRow[parentRow]; p != nil {
				o.Path = p.Path + "/" + o.Name
				o.Effective = p.Effective.stricter(o.Policy)
				p.Children++
			}
		}
	}
}

// Orgs returns the organizations in the scope, in tree order, for menus and
// paths: keys and users are not counted (see OrgsCounted).
// Every list page shows them: they come from the organizations kept in
// memory, as verification's do.
func (s *Store) Orgs(ctx context.Context, sc Scope) ([]Org, error) {
	x, err := s.orgs.get()
	if err != nil {
		return nil, err
	}
	var orgs []Org
	for _, o := range x.tree {
		if sc.contains(o.ids) {
			orgs = append(orgs, o)
		}
	}
	return orgs, nil
}

// OrgsCounted is Orgs with each organization's keys and users counted.
func (s *Store) OrgsCounted(ctx context.Context, sc Scope) ([]Org, error) {
	return readValue(ctx, s, func(tx *sql.Tx) ([]Org, error) {
		orgs, err := orgTree(ctx, tx, sc)
		if err != nil {
			return nil, err
		}
		return orgs, withCounts(ctx, tx, orgs)
	})
}

// Org returns the organization with the public id, if it is in the scope,
// with its keys and users counted.
func (s *Store) Org(ctx context.Context, sc Scope, id string) (Org, error) {
	return readValue(ctx, s, func(tx *sql.Tx) (Org, error) {
		o, err := orgByID(ctx, tx, sc, id)
		if err != nil {
			return Org{}, err
		}
		one := []Org{o}
		err = withCounts(ctx, tx, one)
		return one[0], err
	})
}

// withCounts counts the keys and users at each organization of orgs.
func withCounts(ctx context.Context, tx *sql.Tx, orgs []Org) error {
	for i := range orgs {
		o := &orgs[i]
		// Each an index range: keys_org_name, users_by_org.
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM keys WHERE org_id = ?`, o.rowID).Scan(&o.Keys); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE org_id = ?`, o.rowID).Scan(&o.Users); err != nil {
			return err
		}
	}
	return nil
}

// OrgByPath finds an organization by its public id, its name (when only one
// has it) or its path of names ("Default/Acme"), for the command line.
func (s *Store) OrgByPath(ctx context.Context, sc Scope, ref string) (Org, error) {
	orgs, err := s.Orgs(ctx, sc)
	if err != nil {
		return Org{}, err
	}
	var found []Org
	for _, o := range orgs {
		if o.ID == ref || strings.EqualFold(o.Path, ref) {
			return o, nil
		}
		if strings.EqualFold(o.Name, ref) {
			found = append(found, o)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return Org{}, Errorf(ENOTFOUND, "org", "There is no organization %q.", ref)
	}
	return Org{}, Errorf(EINVALID, "org", "Several organizations are named %q: give the path, such as %q.", ref, found[0].Path)
}

func orgByID(ctx context.Context, tx *sql.Tx, sc Scope, id string) (Org, error) {
	return orgWhere(ctx, tx, sc, "public_id = ?", id, "There is no such organization. It may have been deleted.")
}

// orgByRow returns the organization with a row id, whatever the scope.
func orgByRow(ctx context.Context, tx *sql.Tx, row int64) (Org, error) {
	return orgWhere(ctx, tx, Scope{}, "id = ?", row, "There is no such organization.")
}

// orgWhere returns the one organization that cond selects, if it is in the
// scope, as orgTree would: it reads the organization and those above it,
// for its path and effective policy, and counts its children. A key's
// change reads its organization this way, whatever the size of the tree.
func orgWhere(ctx context.Context, tx *sql.Tx, sc Scope, cond string, arg any, notFound string) (Org, error) {
	var ids string
	err := tx.QueryRowContext(ctx, `SELECT path FROM organizations WHERE `+cond, arg).Scan(&ids)
	if err == sql.ErrNoRows || err == nil && !sc.contains(ids) {
		return Org{}, Errorf(ENOTFOUND, "", "%s", notFound)
	}
	if err != nil {
		return Org{}, err
	}
	rows := strings.Split(strings.Trim(ids, "/"), "/")
	args := make([]any, len(rows))
	for i, r := range rows {
		if args[i], err = strconv.ParseInt(r, 10, 64); err != nil {
			return Org{}, fmt.Errorf("store: organization %s: %w", ids, err)
		}
	}
	chain, err := readOrgs(ctx, tx, `WHERE o.id IN (?`+strings.Repeat(", ?", len(rows)-1)+`)`, args...)
	if err != nil {
		return Org{}, err
	}
	foldOrgs(chain)
	o := chain[len(chain)-1]
	if o.ids != ids {
		return Org{}, fmt.Errorf("store: organization %s: its chain of organizations is incomplete", ids)
	}
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM organizations WHERE parent_id = ?`, o.rowID).Scan(&o.Children)
	return o, err
}

// orgEvent describes a change to an organization for the audit log.
func orgEvent(action string, o Org, changes map[string]Change) eventRecord {
	return eventRecord{Action: action, TargetType: TargetOrg, TargetID: o.ID, TargetName: o.Path, Changes: changes, org: o.rowID}
}

// CreateOrg adds an organization under parentID (the actor's own when
// empty), inside the actor's scope.
func (s *Store) CreateOrg(ctx context.Context, actor Actor, name, parentID string) (Org, error) {
	name = strings.TrimSpace(name)
	if msg := OrgNameProblem(name); msg != "" {
		return Org{}, &Error{Code: EINVALID, Field: "name", Message: msg}
	}
	var o Org
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		parent, err := actor.orgOrOwn(ctx, tx, parentID)
		if err != nil {
			return err
		}
		if err := checkOrgNameFree(ctx, tx, parent.rowID, name, 0); err != nil {
			return err
		}
		var row int64
		err = tx.QueryRowContext(ctx, `INSERT INTO organizations (parent_id, public_id, name, name_fold, path, created_at, updated_at)
			VALUES (?, ?, ?, ?, '', ?, ?) RETURNING id`, parent.rowID, newPublicID(), name, foldName(name), now.Unix(), now.Unix()).Scan(&row)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE organizations SET path = ? WHERE id = ?`, parent.ids+strconv.FormatInt(row, 10)+"/", row); err != nil {
			return err
		}
		if o, err = orgByRow(ctx, tx, row); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, now, actor, orgEvent(ActionOrgCreated, o, nil))
	})
	if err == nil {
		s.orgsChanged()
	}
	return o, err
}

// orgOrOwn returns the organization id names inside the actor's scope, or
// the actor's own organization when id is empty. An unknown id, or one
// outside the scope, is an EINVALID error on the field "org" (it is input).
func (actor Actor) orgOrOwn(ctx context.Context, tx *sql.Tx, id string) (Org, error) {
	if id == "" {
		return orgByRow(ctx, tx, actor.Scope.orgRow())
	}
	o, err := orgByID(ctx, tx, actor.Scope, id)
	if ErrorCode(err) == ENOTFOUND {
		return Org{}, Errorf(EINVALID, "org", "There is no such organization.")
	}
	return o, err
}

func checkOrgNameFree(ctx context.Context, tx *sql.Tx, parent int64, name string, except int64) error {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM organizations WHERE parent_id = ? AND name_fold = ?`, parent, foldName(name)).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && id == except):
		return nil
	case err == nil:
		return Errorf(EINVALID, "name", "There is already an organization named %q there.", name)
	}
	return err
}

// UpdateOrg renames an organization and moves it under parentID (where it
// is when empty). It cannot move under itself or its own subtree, nor out
// of the actor's scope; the root stays the root.
func (s *Store) UpdateOrg(ctx context.Context, actor Actor, id, name, parentID string) (Org, error) {
	name = strings.TrimSpace(name)
	if msg := OrgNameProblem(name); msg != "" {
		return Org{}, &Error{Code: EINVALID, Field: "name", Message: msg}
	}
	var o Org
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		before, err := orgByID(ctx, tx, actor.Scope, id)
		if err != nil {
			return err
		}
		// Staying under the same parent needs no look at it: the top of a
		// tenant's scope has its parent outside the scope.
		moving := parentID != "" && parentID != before.ParentID
		parent := Org{rowID: parentRow(before.ids)}
		switch {
		case before.ids == actor.Scope.ids && !before.IsRoot():
			// Like its policy, a tenant's own organization is named and
			// placed from above: its siblings are not the tenant's to see.
			return Errorf(EFORBIDDEN, "", "Your own organization is named and placed by the organization above it.")
		case moving && before.IsRoot():
			return Errorf(EINVALID, "parent_id", "The root organization stays at the root.")
		case moving:
			if parent, err = actor.orgOrOwn(ctx, tx, parentID); err != nil {
				return err
			}
			if strings.HasPrefix(parent.ids, before.ids) {
				return Errorf(EINVALID, "parent_id", "An organization cannot move into itself or below itself.")
			}
		}
		if err := checkOrgNameFree(ctx, tx, parent.rowID, name, before.rowID); err != nil {
			return err
		}
		changes := map[string]Change{}
		if name != before.Name {
			changes["name"] = Change{Before: before.Name, After: name}
		}
		newIDs := before.ids
		if moving {
			newIDs = parent.ids + strconv.FormatInt(before.rowID, 10) + "/"
			changes["parent"] = Change{Before: strings.TrimSuffix(before.Path, "/"+before.Name), After: parent.Path}
			// Every organization below moves along: rewrite the start of
			// their paths.
			if _, err := tx.ExecContext(ctx, `UPDATE organizations SET path = ? || substr(path, ?) WHERE path >= ? AND path < ?`,
				newIDs, len(before.ids)+1, before.ids, before.ids[:len(before.ids)-1]+"0"); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE organizations SET parent_id = ? WHERE id = ?`, parent.rowID, before.rowID); err != nil {
				return err
			}
		}
		if len(changes) == 0 {
			o = before
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE organizations SET name = ?, name_fold = ?, updated_at = ? WHERE id = ?`,
			name, foldName(name), now.Unix(), before.rowID); err != nil {
			return err
		}
		if o, err = orgByRow(ctx, tx, before.rowID); err != nil {
			return err
		}
		ev := orgEvent(ActionOrgUpdated, o, changes)
		if moving {
			if err := forgetKeptSecrets(ctx, tx, o, &ev); err != nil {
				return err
			}
		}
		return s.logEvent(ctx, tx, now, actor, ev)
	})
	if err == nil {
		s.orgsChanged()
	}
	return o, err
}

// DeleteOrg removes an organization that holds no keys, users or
// organizations. The root stays.
func (s *Store) DeleteOrg(ctx context.Context, actor Actor, id string) (Org, error) {
	var o Org
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		var err error
		if o, err = orgByID(ctx, tx, actor.Scope, id); err != nil {
			return err
		}
		one := []Org{o}
		if err := withCounts(ctx, tx, one); err != nil {
			return err
		}
		o = one[0]
		switch {
		case o.IsRoot():
			return Errorf(ECONFLICT, "", "The root organization cannot be deleted.")
		case o.Keys > 0 || o.Users > 0 || o.Children > 0:
			return Errorf(ECONFLICT, "", "%s still holds %s, %s and %s. Move or delete them first.", o.Path,
				countText(o.Keys, "key", "keys"), countText(o.Users, "user", "users"), countText(o.Children, "organization", "organizations"))
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM organizations WHERE id = ?`, o.rowID); err != nil {
			return err
		}
		// An organization's id may be given again: what was counted for
		// this one must not pass to the next.
		if err := forgetOrgUsage(ctx, tx, o.rowID); err != nil {
			return err
		}
		ev := orgEvent(ActionOrgDeleted, o, nil)
		ev.org = parentRow(o.ids) // the organization is gone: its parent's log keeps the event
		return s.logEvent(ctx, tx, now, actor, ev)
	})
	if err == nil {
		s.refusals.forget(o.rowID)
		s.orgsChanged()
	}
	return o, err
}

// SetOrgPolicy sets an organization's own policy. Only someone above the
// organization may (an administrator at the root for the root): a tenant's
// administrator cannot loosen the limits set for their tenant. A setting
// looser than the parent's effective one is refused.
func (s *Store) SetOrgPolicy(ctx context.Context, actor Actor, id string, p Policy) (Org, error) {
	if problems := p.Problems(); len(problems) > 0 {
		return Org{}, problems[0]
	}
	if !p.GraceSet {
		p.GraceDays = 0
	}
	var o Org
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		before, err := orgByID(ctx, tx, actor.Scope, id)
		if err != nil {
			return err
		}
		if before.ids == actor.Scope.ids && !before.IsRoot() {
			return Errorf(EFORBIDDEN, "", "The policy of your own organization is set by the organization above it.")
		}
		if !before.IsRoot() {
			parent, err := orgByID(ctx, tx, Scope{}, before.ParentID)
			if err != nil {
				return err
			}
			if !parent.Effective.APIKeysEnabled && p.APIKeysEnabled {
				return Errorf(EINVALID, "api_keys_enabled", "API keys are switched off above, in %s; they cannot be switched on here.", parent.Path)
			}
			if lim := parent.Effective.MaxExpiryDays; lim > 0 && p.MaxExpiryDays > lim {
				return Errorf(EINVALID, "max_expiry_days", "%s allows at most %d days; this organization cannot allow more.", parent.Path, lim)
			}
			if lim := parent.Effective.MaxKeysPerUser; lim > 0 && p.MaxKeysPerUser > lim {
				return Errorf(EINVALID, "max_keys_per_user", "%s allows at most %d keys per user; this organization cannot allow more.", parent.Path, lim)
			}
			if lim := parent.Effective.RotateEveryDays; lim > 0 && p.RotateEveryDays > lim {
				return Errorf(EINVALID, "rotate_every_days", "%s rotates keys every %d days; this organization cannot wait longer.", parent.Path, lim)
			}
			if up := parent.Effective; up.GraceSet && p.GraceSet && p.GraceDays > up.GraceDays {
				return Errorf(EINVALID, "grace_days", "%s allows a grace period of at most %d days; this organization cannot allow more.", parent.Path, up.GraceDays)
			}
			if lim := parent.Effective.DeleteAfterDays; lim > 0 && p.DeleteAfterDays > lim {
				return Errorf(EINVALID, "delete_after_days", "%s deletes keys %d days after they expire or are revoked; this organization cannot keep them longer.", parent.Path, lim)
			}
		}
		p.NoticeDays, _ = ParseNoticeDays(p.NoticeDays) // checked above
		if p == before.Policy {
			o = before
			return nil
		}
		nullable := func(n int) sql.NullInt64 { return sql.NullInt64{Int64: int64(n), Valid: n > 0} }
		grace := sql.NullInt64{Int64: int64(p.GraceDays), Valid: p.GraceSet}
		if _, err := tx.ExecContext(ctx, `UPDATE organizations SET api_keys_enabled = ?, max_expiry_days = ?, max_keys_per_user = ?,
			recoverable_keys = ?, rotate_every_days = ?, grace_days = ?, delete_after_days = ?, notice_days = ?,
			spike_multiple = ?, spike_floor = ?, updated_at = ? WHERE id = ?`,
			p.APIKeysEnabled, nullable(p.MaxExpiryDays), nullable(p.MaxKeysPerUser),
			p.RecoverableKeys, nullable(p.RotateEveryDays), grace, nullable(p.DeleteAfterDays), p.NoticeDays,
			nullable(p.SpikeMultiple), nullable(p.SpikeFloor), now.Unix(), before.rowID); err != nil {
			return err
		}
		if o, err = orgByRow(ctx, tx, before.rowID); err != nil {
			return err
		}
		ev := orgEvent(ActionOrgPolicyChanged, o, policyChanges(before.Policy, o.Policy))
		if err := forgetKeptSecrets(ctx, tx, o, &ev); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, now, actor, ev)
	})
	if err == nil {
		// Switching keys off applies from the next verification.
		s.orgsChanged()
	}
	return o, err
}

// policyChanges lists the fields of a policy that changed, by the names
// of the policy form's fields; a limit or a setting left to the
// organization above is empty.
func policyChanges(before, after Policy) map[string]Change {
	changes := map[string]Change{}
	field := func(name string, b, a any) {
		if b != a {
			changes[name] = Change{Before: b, After: a}
		}
	}
	set := func(n int) any {
		if n == 0 {
			return ""
		}
		return n
	}
	grace := func(p Policy) any {
		if !p.GraceSet {
			return ""
		}
		return p.GraceDays
	}
	field("api_keys_enabled", before.APIKeysEnabled, after.APIKeysEnabled)
	field("max_expiry_days", set(before.MaxExpiryDays), set(after.MaxExpiryDays))
	field("max_keys_per_user", set(before.MaxKeysPerUser), set(after.MaxKeysPerUser))
	field("recoverable_keys", before.RecoverableKeys, after.RecoverableKeys)
	field("rotate_every_days", set(before.RotateEveryDays), set(after.RotateEveryDays))
	field("grace_days", grace(before), grace(after))
	field("delete_after_days", set(before.DeleteAfterDays), set(after.DeleteAfterDays))
	field("notice_days", before.NoticeDays, after.NoticeDays)
	field("spike_multiple", set(before.SpikeMultiple), set(after.SpikeMultiple))
	field("spike_floor", set(before.SpikeFloor), set(after.SpikeFloor))
	return changes
}

// forgetKeptSecrets drops the kept secrets of the keys at and below o whose
// organization is no longer recoverable, after a change of policy or of
// place, and says how many in ev. Secrets that a scheduled rotation made
// stay until someone collects them.
func forgetKeptSecrets(ctx context.Context, tx *sql.Tx, o Org, ev *eventRecord) error {
	orgs, err := orgTree(ctx, tx, orgScope(o.ids))
	if err != nil {
		return err
	}
	var rows []int64
	for _, sub := range orgs {
		if !sub.Effective.RecoverableKeys {
			rows = append(rows, sub.rowID)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	in, args := inList(rows)
	// The kept secrets are few; the keys of a subtree may be a million.
	res, err := tx.ExecContext(ctx, `DELETE FROM kept_secrets WHERE uncollected = 0
		AND (SELECT org_id FROM keys WHERE id = kept_secrets.key_id) IN `+in, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err == nil && n > 0 {
		if ev.Details == nil {
			ev.Details = map[string]any{}
		}
		ev.Details["kept_secrets_forgotten"] = n
	}
	return err
}

// countText writes n with a noun: "1 key", "3 keys".
func countText(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// checkOrgPolicy refuses a new key at org that the organization's effective
// policy rules out: API keys switched off, an expiry past the maximum, or
// one key more than a user may have there.
func checkOrgPolicy(ctx context.Context, tx *sql.Tx, now time.Time, org Org, actor Actor, expiresAt time.Time) error {
	p := org.Effective
	if !p.APIKeysEnabled {
		return Errorf(EINVALID, "org", "API keys are switched off for %s: no key can be created there.", org.Path)
	}
	if err := checkMaxExpiry(org, now, expiresAt); err != nil {
		return err
	}
	if p.MaxKeysPerUser == 0 || actor.UserID == 0 {
		return nil
	}
	// The keys the user created there that still work count.
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM keys k WHERE k.org_id = ? AND k.created_by = ?
		AND `+bindTimes(factRevoked.not+" AND "+factExpired.not, "?", "?"), org.rowID, actor.Username, now.Unix()).Scan(&n)
	if err != nil {
		return err
	}
	if n >= p.MaxKeysPerUser {
		return Errorf(EINVALID, "org", "%s allows %d keys per user, and you have %d that still work there. Revoke or delete one first.",
			org.Path, p.MaxKeysPerUser, n)
	}
	return nil
}

// checkMaxExpiry refuses an expiry (the zero time: never) past the
// organization's maximum, for new keys and extensions alike.
func checkMaxExpiry(org Org, now, at time.Time) error {
	days := org.Effective.MaxExpiryDays
	if days == 0 {
		return nil
	}
	limit := now.AddDate(0, 0, days)
	switch {
	case at.IsZero():
		return Errorf(EINVALID, "expires_at", "Keys in %s must expire within %d days: choose a date.", org.Path, days)
	case at.After(limit):
		return Errorf(EINVALID, "expires_at", "Keys in %s must expire within %d days, by %s.", org.Path, days, limit.Format("2006-01-02 15:04 UTC"))
	}
	return nil
}

// orgsChanged forgets what verification keeps of organizations: their ids,
// and the keys, which carry their organization's path and switch.
func (s *Store) orgsChanged() {
	s.orgs.drop()
	s.cache.drop(nil, false)
}
