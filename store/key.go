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

// Key is an API key as the console shows it. The secret itself is never
// kept: only its hash and a hint.
type Key struct {
	rowID int64

	ID          string // public id, used in URLs, CSV and events
	Name        string
	Permissions []string
	Hint        string // the secret truncated in the middle
	Enabled     bool
	ExpiresAt   time.Time // zero: never expires
	Capacity    int       // verifications allowed per Frequency seconds
	Frequency   int

	CreatedAt   time.Time
	CreatedBy   string
	UpdatedAt   time.Time
	UpdatedBy   string
	EnabledAt   time.Time // when Enabled last changed (zero: never changed)
	EnabledBy   string
	ExpirySetAt time.Time
	ExpirySetBy string
	RevokedAt   time.Time // zero: not revoked
	RevokedBy   string

	LastUsedAt time.Time
	UseCount   int64
	// Uses24h counts its valid verifications over the last 24 hours.
	Uses24h int64

	// SecretKept is set when the key's current secret is also kept
	// encrypted, so that someone with the right can show it again: the key
	// is recoverable, or its secret is Uncollected, made by a scheduled
	// rotation and not revealed yet.
	SecretKept  bool
	Uncollected bool
	// RotateEveryDays is the key's rotation schedule (0: none), and
	// RotateDueAt when it is next rotated (zero: never).
	RotateEveryDays int
	RotateDueAt     time.Time

	// OrgID is the public id of the key's organization: the key is valid
	// there and everywhere below. OrgOff is set when that organization, or
	// one above it, has API keys switched off.
	OrgID  string
	OrgOff bool
	orgRow int64
	orgIDs string
}

// Key limits.
const (
	MaxKeyNameLen    = 100
	DefaultCapacity  = 120
	DefaultFrequency = 60
	MaxCapacity      = 1_000_000
	MaxFrequency     = 86_400
	// SoonWindow is how close to its expiry a key counts as Soon Unavailable.
	SoonWindow = 30 * 24 * time.Hour
)

// Expired reports whether the key's expiry has passed at now.
func (k Key) Expired(now time.Time) bool { return factExpired.holds(k, now) }

// Revoked reports whether the key was revoked.
func (k Key) Revoked() bool { return factRevoked.holds(k, time.Time{}) }

// Usable reports whether the key is neither revoked nor expired: only such a
// key can be revoked.
func (k Key) Usable(now time.Time) bool { return !k.Revoked() && !k.Expired(now) }

// NewKey is the input for creating a key.
type NewKey struct {
	Name        string
	Permissions []string
	Enabled     bool
	ExpiresAt   time.Time // zero: never expires
	Capacity    int
	Frequency   int
	CopiedFrom  string // public id of the key this one copies, if any
	// RotateEveryDays rotates the key on a schedule; 0 never.
	RotateEveryDays int
	// Org is the public id of the key's organization; empty is the
	// creator's own.
	Org string
}

// KeyNameProblem returns what is wrong with a key name, or "" if nothing is.
// The name is checked as given; callers trim it first.
func KeyNameProblem(name string) string {
	switch {
	case name == "":
		return "Enter a name."
	case !utf8.ValidString(name):
		return TextProblem(name)
	case utf8.RuneCountInString(name) > MaxKeyNameLen:
		return fmt.Sprintf("Use at most %d characters (this name has %d).", MaxKeyNameLen, utf8.RuneCountInString(name))
	}
	return TextProblem(name)
}

// RateLimitProblem returns the field and message of what is wrong with a
// rate limit, or "", "" if nothing is.
func RateLimitProblem(capacity, frequency int) (field, message string) {
	switch {
	case capacity < 1 || capacity > MaxCapacity:
		return "capacity", fmt.Sprintf("Enter a number of requests from 1 to %d.", MaxCapacity)
	case frequency < 1 || frequency > MaxFrequency:
		return "frequency", fmt.Sprintf("Enter a number of seconds from 1 to %d (one day).", MaxFrequency)
	}
	return "", ""
}

// ExpiryProblem returns what is wrong with an expiry time at now, or "".
func ExpiryProblem(expiresAt, now time.Time) string {
	if !expiresAt.IsZero() && !expiresAt.After(now) {
		return "Choose a date in the future, or Will never expire."
	}
	return ""
}

func foldName(name string) string { return strings.ToLower(name) }

// CreateKey creates a key and returns it with its secret, which exists only
// in this return value.
func (s *Store) CreateKey(ctx context.Context, actor Actor, in NewKey) (Key, string, error) {
	in.Name = strings.TrimSpace(in.Name)
	if msg := KeyNameProblem(in.Name); msg != "" {
		return Key{}, "", &Error{Code: EINVALID, Field: "name", Message: msg}
	}
	perms := slices.Clone(in.Permissions)
	slices.Sort(perms)
	perms = slices.Compact(perms)
	if len(perms) == 0 {
		return Key{}, "", &Error{Code: EINVALID, Field: "permissions", Message: "Choose at least one permission."}
	}
	if field, msg := RateLimitProblem(in.Capacity, in.Frequency); msg != "" {
		return Key{}, "", &Error{Code: EINVALID, Field: field, Message: msg}
	}
	if msg := RotateEveryProblem(in.RotateEveryDays); msg != "" {
		return Key{}, "", &Error{Code: EINVALID, Field: "rotate_every_days", Message: msg}
	}
	secret := NewSecret()
	var k Key
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if msg := ExpiryProblem(in.ExpiresAt, now); msg != "" {
			return &Error{Code: EINVALID, Field: "expires_at", Message: msg}
		}
		k = Key{
			ID:          newPublicID(),
			Name:        in.Name,
			Permissions: perms,
			Hint:        secretHint(secret),
			Enabled:     in.Enabled,
			ExpiresAt:   in.ExpiresAt.UTC().Truncate(time.Second),
			Capacity:    in.Capacity,
			Frequency:   in.Frequency,
			CreatedAt:   now,
			CreatedBy:   actor.Username,
			UpdatedAt:   now,
			UpdatedBy:   actor.Username,
		}
		if !k.ExpiresAt.IsZero() {
			k.ExpirySetAt, k.ExpirySetBy = now, actor.Username
		}
		org, err := actor.orgOrOwn(ctx, tx, in.Org)
		if err != nil {
			return err
		}
		k.OrgID, k.orgRow, k.orgIDs = org.ID, org.rowID, org.ids
		if err := checkOrgPolicy(ctx, tx, now, org, actor, k.ExpiresAt); err != nil {
			return err
		}
		if err := checkPermissionsExist(ctx, tx, perms); err != nil {
			return err
		}
		if err := checkKeyNameFree(ctx, tx, org.rowID, k.Name); err != nil {
			return err
		}
		// The key copied from may have been deleted meanwhile; the copy
		// still records where it came from.
		var copied Key
		if in.CopiedFrom != "" {
			var err error
			copied, err = keyByID(ctx, tx, actor.Scope, in.CopiedFrom)
			if err != nil && ErrorCode(err) != ENOTFOUND {
				return err
			}
		}
		if err := insertKey(ctx, tx, s.text, &k, HashSecret(secret)); err != nil {
			return err
		}
		if err := s.keepSecretAndSchedule(ctx, tx, now, &k, org.Effective, secret, in.RotateEveryDays); err != nil {
			return err
		}
		ev := eventRecord{
			Action: ActionKeyCreated, TargetType: TargetKey, TargetID: k.ID, TargetName: k.Name, org: org.rowID,
			Details: map[string]any{
				"organization": org.Path,
				"permissions":  k.Permissions, "enabled": k.Enabled, "expires_at": timeValue(k.ExpiresAt),
				"capacity": k.Capacity, "frequency": k.Frequency,
			},
		}
		if k.RotateEveryDays > 0 {
			ev.Details["rotate_every_days"] = k.RotateEveryDays
		}
		if k.SecretKept {
			ev.Details["recoverable"] = true
		}
		if in.CopiedFrom != "" {
			ev.Action = ActionKeyCopied
			ev.Details["copied_from_id"] = in.CopiedFrom
			if copied.ID != "" {
				ev.Details["copied_from_name"] = copied.Name
			}
		}
		return s.logEvent(ctx, tx, now, actor, ev)
	})
	if err != nil {
		return Key{}, "", err
	}
	return k, secret, nil
}

// keepSecretAndSchedule keeps a new key's secret encrypted when its
// organization's keys are recoverable, and sets its rotation schedule.
func (s *Store) keepSecretAndSchedule(ctx context.Context, tx *sql.Tx, now time.Time, k *Key, p Policy, secret string, every int) error {
	kept, err := s.sealFor(k, p, secret, false)
	if err != nil {
		return err
	}
	if kept.sealed != nil {
		k.SecretKept = true
		if err := kept.keep(ctx, tx, k.rowID); err != nil {
			return err
		}
	}
	if every == 0 {
		return nil
	}
	k.RotateEveryDays, k.RotateDueAt = every, now.AddDate(0, 0, every)
	return writeSchedule(ctx, tx, k)
}

// RotateEveryProblem returns what is wrong with a rotation schedule of
// days (0: none), or "".
func RotateEveryProblem(days int) string {
	if days < 0 || days > MaxRotateEveryDays {
		return fmt.Sprintf("Enter a number of days from 1 to %s, or leave it empty never to rotate on a schedule.", Thousands(MaxRotateEveryDays))
	}
	return ""
}

// insertKeySQL writes a key row from insertKeyArgs's values.
const insertKeySQL = `
	INSERT INTO keys (public_id, name, name_fold, name_sort, permissions, secret_hash, hint, enabled,
		expires_at, capacity, frequency, created_at, created_by, updated_at, updated_by,
		expiry_set_at, expiry_set_by, revoked_at, revoked_by, last_used_at, use_count, org_id)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertKeyArgs is the values insertKeySQL writes for k.
func insertKeyArgs(k *Key, hash []byte) []any {
	return []any{k.ID, k.Name, foldName(k.Name), sortName(k.Name), strings.Join(k.Permissions, " "), hash, k.Hint, k.Enabled,
		unix(k.ExpiresAt), k.Capacity, k.Frequency, k.CreatedAt.Unix(), k.CreatedBy,
		k.UpdatedAt.Unix(), k.UpdatedBy, unix(k.ExpirySetAt), nullString(k.ExpirySetBy),
		unix(k.RevokedAt), nullString(k.RevokedBy), unix(k.LastUsedAt), k.UseCount, max(k.orgRow, RootOrg)}
}

// insertKey writes a new key with its permissions and search terms.
func insertKey(ctx context.Context, tx *sql.Tx, text textIndex, k *Key, hash []byte) error {
	if err := tx.QueryRowContext(ctx, insertKeySQL+` RETURNING id`, insertKeyArgs(k, hash)...).Scan(&k.rowID); err != nil {
		return err
	}
	for _, p := range k.Permissions {
		if _, err := tx.ExecContext(ctx, `INSERT INTO key_permissions (key_id, permission_id) SELECT ?, id FROM permissions WHERE name = ?`, k.rowID, p); err != nil {
			return err
		}
	}
	return text.addKey(ctx, tx, k.rowID, k.Name, k.CreatedBy)
}

func checkPermissionsExist(ctx context.Context, tx *sql.Tx, perms []string) error {
	for _, p := range perms {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM permissions WHERE name = ?`, p).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return Errorf(EINVALID, "permissions", "There is no permission %q.", p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkKeyNameFree refuses a name that a key of the organization has.
func checkKeyNameFree(ctx context.Context, tx *sql.Tx, org int64, name string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM keys WHERE org_id = ? AND name_fold = ?`, org, foldName(name)).Scan(&one)
	switch {
	case err == nil:
		return Errorf(EINVALID, "name", "A key named %q already exists in this organization. Choose another name.", name)
	case errors.Is(err, sql.ErrNoRows):
		return nil
	}
	return err
}

// keyColumns are the columns scanKey reads, in its order: the key's own,
// then its organization's.
const keyColumns = keyRowColumns + `, ` + keyOrgColumns

// keyRowColumns are the columns of the keys table that scanKeyRow reads.
const keyRowColumns = `k.id, k.public_id, k.name, k.permissions, k.hint, k.enabled, k.expires_at,
	k.capacity, k.frequency, k.created_at, k.created_by, k.updated_at, k.updated_by,
	k.enabled_at, k.enabled_by, k.expiry_set_at, k.expiry_set_by, k.revoked_at, k.revoked_by,
	k.last_used_at, k.use_count, k.org_id, ` + keyKeptColumn + `,
	(SELECT every_days FROM key_schedules WHERE key_id = k.id), (SELECT due_at FROM key_schedules WHERE key_id = k.id), k.uses_24h`

// keyKeptColumn says what is kept of the key's secret: NULL for nothing,
// else whether a reveal has yet to collect it. A lookup by the key's row
// costs the same however many secrets are kept (lists of them, read once
// per statement, cost a page as much as the whole table when every key
// is recoverable); an export of a million keys pays 0.7 s for it.
const keyKeptColumn = `(SELECT uncollected FROM kept_secrets WHERE key_id = k.id)`

// keyOrgColumns are what a key shows of its organization (k.org_id): its
// public id, its ids path, and whether API keys are off there or above.
const keyOrgColumns = `(SELECT public_id FROM organizations WHERE id = k.org_id),
	(SELECT path FROM organizations WHERE id = k.org_id), ` + orgOffSQL

// orgOffSQL is true for a key whose organization, or one above it, has API
// keys switched off. The subquery does not depend on the row, so SQLite
// runs it once per statement. (A status condition says it with
// factOrgOff's placeholder instead: see bindStatus.)
const orgOffSQL = `k.org_id IN (` + orgsOffSQL + `)`

// orgsOffSQL lists the organizations where API keys are switched off,
// there or above. It starts from the few switched-off organizations
// (their own index) and takes each one's subtree as a range of paths.
const orgsOffSQL = `SELECT o.id FROM organizations a INDEXED BY organizations_keys_off
	JOIN organizations o ON o.path >= a.path AND o.path < substr(a.path, 1, length(a.path) - 1) || '0'
	WHERE a.api_keys_enabled = 0`

type rowScanner interface{ Scan(dest ...any) error }

// scanKey reads keyColumns, and then extra, from row.
func scanKey(row rowScanner, extra ...any) (Key, error) {
	r := new(keyRow)
	return r.scan(row, append([]any{&r.k.OrgID, &r.k.orgIDs, &r.k.OrgOff}, extra...)...)
}

// keyListedColumns are the columns of keyRowColumns that a list and its
// export show: not who changed the key last, nor its rate limit or use
// count. An export of a million keys reads them in a second less.
const keyListedColumns = `k.id, k.public_id, k.name, k.permissions, k.hint, k.enabled, k.expires_at,
	k.created_at, k.created_by, k.revoked_at, k.last_used_at, k.org_id, ` + keyKeptColumn + `, k.uses_24h`

// keyRow reads keyRowColumns, or keyListedColumns when listed is set. A
// read of many rows uses one keyRow for all of them, so that its scan
// destinations are made once, not per row.
type keyRow struct {
	listed                                                   bool
	k                                                        Key
	perms                                                    string
	createdAt, updatedAt                                     int64
	expiresAt, enabledAt, expirySetAt, revokedAt, lastUsedAt sql.NullInt64
	kept, rotateEvery, rotateDueAt                           sql.NullInt64
	enabledBy, expirySetBy, revokedBy                        sql.NullString
	dest                                                     []any
}

// columns are the columns that scan reads before extra.
func (r *keyRow) columns() string {
	if r.listed {
		return keyListedColumns
	}
	return keyRowColumns
}

// scan reads r.columns(), and then extra, from row. Every call of one
// keyRow must pass the same extra.
func (r *keyRow) scan(row rowScanner, extra ...any) (Key, error) {
	if r.dest == nil {
		if r.listed {
			r.dest = []any{&r.k.rowID, &r.k.ID, &r.k.Name, &r.perms, &r.k.Hint, &r.k.Enabled, &r.expiresAt,
				&r.createdAt, &r.k.CreatedBy, &r.revokedAt, &r.lastUsedAt, &r.k.orgRow, &r.kept, &r.k.Uses24h}
		} else {
			r.dest = []any{&r.k.rowID, &r.k.ID, &r.k.Name, &r.perms, &r.k.Hint, &r.k.Enabled, &r.expiresAt,
				&r.k.Capacity, &r.k.Frequency, &r.createdAt, &r.k.CreatedBy, &r.updatedAt, &r.k.UpdatedBy,
				&r.enabledAt, &r.enabledBy, &r.expirySetAt, &r.expirySetBy, &r.revokedAt, &r.revokedBy,
				&r.lastUsedAt, &r.k.UseCount, &r.k.orgRow, &r.kept, &r.rotateEvery, &r.rotateDueAt, &r.k.Uses24h}
		}
		r.dest = append(r.dest, extra...)
	}
	if err := row.Scan(r.dest...); err != nil {
		return Key{}, err
	}
	k := r.k
	k.Permissions = strings.Fields(r.perms)
	k.ExpiresAt = fromUnix(r.expiresAt)
	k.CreatedAt = time.Unix(r.createdAt, 0).UTC()
	k.RevokedAt = fromUnix(r.revokedAt)
	k.LastUsedAt = fromUnix(r.lastUsedAt)
	k.SecretKept, k.Uncollected = r.kept.Valid, r.kept.Int64 == 1
	if !r.listed {
		k.UpdatedAt = time.Unix(r.updatedAt, 0).UTC()
		k.EnabledAt, k.EnabledBy = fromUnix(r.enabledAt), r.enabledBy.String
		k.ExpirySetAt, k.ExpirySetBy = fromUnix(r.expirySetAt), r.expirySetBy.String
		k.RevokedBy = r.revokedBy.String
		k.RotateEveryDays, k.RotateDueAt = int(r.rotateEvery.Int64), fromUnix(r.rotateDueAt)
	}
	return k, nil
}

// keyOrgs holds keyOrgColumns of every organization, for a read that
// meets many keys: read before the keys are, in the read's own snapshot,
// so that the keys it returns say exactly what keyColumns would, and no
// query runs while the keys' rows stream (a PostgreSQL connection answers
// one query at a time).
type keyOrgs struct {
	byRow map[int64]keyOrg
}

type keyOrg struct {
	id, ids string
	off     bool
}

func readKeyOrgs(ctx context.Context, tx *sql.Tx) (*keyOrgs, error) {
	type orgRow struct {
		row int64
		org keyOrg
	}
	o := &keyOrgs{byRow: map[int64]keyOrg{}}
	err := eachRow(ctx, tx, func(r rowScanner) (orgRow, error) {
		var v orgRow
		return v, r.Scan(&v.row, &v.org.id, &v.org.ids, &v.org.off)
	}, func(v orgRow) error {
		o.byRow[v.row] = v.org
		return nil
	}, `SELECT k.org_id, `+keyOrgColumns+` FROM (SELECT id AS org_id FROM organizations) k`)
	return o, err
}

// fill sets the organization fields of k, read by scanKeyRow.
func (o *keyOrgs) fill(_ context.Context, k *Key) error {
	org, ok := o.byRow[k.orgRow]
	if !ok {
		return fmt.Errorf("key %s: organization %d is not in the snapshot", k.ID, k.orgRow)
	}
	k.OrgID, k.orgIDs, k.OrgOff = org.id, org.ids, org.off
	return nil
}

// keyByID reads the key with a public id, if it is in the scope: a key
// outside it does not exist for the caller.
func keyByID(ctx context.Context, tx *sql.Tx, sc Scope, id string) (Key, error) {
	k, err := scanKey(tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM keys k WHERE k.public_id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !sc.contains(k.orgIDs)) {
		return Key{}, Errorf(ENOTFOUND, "", "There is no API key with id %q. It may have been deleted.", id)
	}
	return k, err
}

// Key returns the key with the given public id, if it is in the scope.
func (s *Store) Key(ctx context.Context, sc Scope, id string) (Key, error) {
	return readValue(ctx, s, func(tx *sql.Tx) (Key, error) { return keyByID(ctx, tx, sc, id) })
}

// copySuffix matches the "_N" that copies add to a name.
func splitCopySuffix(name string) (base string, n int) {
	i := strings.LastIndexByte(name, '_')
	if i < 0 || i == len(name)-1 {
		return name, 0
	}
	n, err := strconv.Atoi(name[i+1:])
	if err != nil || n < 1 || name[i+1] == '0' || name[i+1] == '+' {
		return name, 0
	}
	return name[:i], n
}

// NextCopyName returns the name a copy of k gets in k's organization: the
// base name (without any "_N") followed by "_N" with N one more than the
// highest copy number in use there.
func (s *Store) NextCopyName(ctx context.Context, k Key) (string, error) {
	base, _ := splitCopySuffix(k.Name)
	highest := 0
	err := s.read(ctx, func(tx *sql.Tx) error {
		// '`' sorts right after '_', so this is every name starting base_.
		lo := foldName(base) + "_"
		hi := foldName(base) + "`"
		return eachRow(ctx, tx, scanString, func(other string) error {
			if b, n := splitCopySuffix(other); n > highest && foldName(b) == foldName(base) {
				highest = n
			}
			return nil
		}, `SELECT name FROM keys WHERE org_id = ? AND name_fold >= ? AND name_fold < ?`, k.orgRow, lo, hi)
	})
	if err != nil {
		return "", err
	}
	suffix := "_" + strconv.Itoa(highest+1)
	// Keep the result within the name limit by shortening the base.
	if r := []rune(base); len(r)+len(suffix) > MaxKeyNameLen {
		base = string(r[:MaxKeyNameLen-len(suffix)])
	}
	return base + suffix, nil
}

func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// timeValue is how a time appears in event details: RFC 3339, or nil for none.
func timeValue(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// FillRateLimits sets the capacity and frequency of keys read by a list,
// which leaves them out, in one statement.
func (s *Store) FillRateLimits(ctx context.Context, keys []Key) error {
	if len(keys) == 0 {
		return nil
	}
	rows := make([]int64, len(keys))
	at := make(map[int64]int, len(keys))
	for i, k := range keys {
		rows[i], at[k.rowID] = k.rowID, i
	}
	in, ids := inList(rows)
	return s.read(ctx, func(tx *sql.Tx) error {
		type limit struct{ row, capacity, frequency int64 }
		return eachRow(ctx, tx, func(r rowScanner) (limit, error) {
			var l limit
			return l, r.Scan(&l.row, &l.capacity, &l.frequency)
		}, func(l limit) error {
			k := &keys[at[l.row]]
			k.Capacity, k.Frequency = int(l.capacity), int(l.frequency)
			return nil
		}, `SELECT k.id, k.capacity, k.frequency FROM keys k WHERE k.id IN `+in, ids...)
	})
}
