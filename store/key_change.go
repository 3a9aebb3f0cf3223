package store

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"time"
)

// KeyAction is a change to an existing key.
type KeyAction string

const (
	KeyEnable    KeyAction = "enable"
	KeyDisable   KeyAction = "disable"
	KeyExpireNow KeyAction = "expire"
	KeySetExpiry KeyAction = "set_expiry"
	KeyRevoke    KeyAction = "revoke"
	KeyDelete    KeyAction = "delete"
	KeyRename    KeyAction = "rename"
	KeyRateLimit KeyAction = "rate_limit"
	KeyRotate    KeyAction = "rotate"
	KeyEndGrace  KeyAction = "end_grace"
	KeyReveal    KeyAction = "reveal"
	KeySchedule  KeyAction = "schedule"
)

// Right is the right an action on keys takes: deleting takes
// apikeys.delete, every other change apikeys.update.
func (a KeyAction) Right() Right {
	if a == KeyDelete {
		return RightKeysDelete
	}
	return RightKeysUpdate
}

// BulkActions are the actions that apply to many keys at once.
var BulkActions = []KeyAction{KeyEnable, KeyDisable, KeyRevoke, KeyDelete}

// keyChange is one change to a key: its action, and apply, which checks
// the change against the key's state, makes it in the database (a
// deletion at the transaction's next flush) and in k, and returns the
// event that records it (nil when the change is already
// in effect, as when enabling an enabled key). A change that the key's
// state rules out is an ECONFLICT error. Each action is one function below.
type keyChange struct {
	action KeyAction
	apply  func(c *changeTx, k *Key) (*eventRecord, error)
}

// changeTx is what a change works with: the write transaction, its time
// and who makes the change.
type changeTx struct {
	ctx   context.Context
	tx    *sql.Tx
	now   time.Time
	actor Actor
	stmts *stmtCache
	// text keeps the search index up to date.
	text textIndex
	// deleted are the rows of the keys deleted since the last flush.
	deleted []int64
	// policies are the effective policies of the organizations read so
	// far, by row: a bulk change reads each once.
	policies map[int64]Policy
}

// policy returns the effective policy of the organization with this row.
func (c *changeTx) policy(row int64) (Policy, error) {
	if p, ok := c.policies[row]; ok {
		return p, nil
	}
	o, err := orgByRow(c.ctx, c.tx, row)
	if err != nil {
		return Policy{}, err
	}
	if c.policies == nil {
		c.policies = make(map[int64]Policy)
	}
	c.policies[row] = o.Effective
	return o.Effective, nil
}

func (s *Store) newChangeTx(ctx context.Context, tx *sql.Tx, now time.Time, actor Actor) *changeTx {
	return &changeTx{ctx: ctx, tx: tx, now: now, actor: actor, stmts: &stmtCache{tx: tx}, text: s.text}
}

// exec runs a statement of the change, prepared once per transaction.
func (c *changeTx) exec(query string, args ...any) (sql.Result, error) {
	return c.stmts.ExecContext(c.ctx, query, args...)
}

// flush removes the rows of the keys deleted since the last flush: their
// search entries, permissions and rows, a statement each for all of them.
// A bulk action flushes every bulkChunk keys: a statement per key made
// deleting a hundred thousand keys take half as long again.
func (c *changeTx) flush() error {
	if len(c.deleted) == 0 {
		return nil
	}
	in, ids := inList(c.deleted)
	// First the search entries, read from the rows. Then the permissions
	// and previous secrets, which the rows' deletion would find and delete
	// one key at a time.
	if err := c.text.dropKeys(c.ctx, c.stmts, in, ids); err != nil {
		return err
	}
	for _, query := range []string{
		`DELETE FROM key_permissions WHERE key_id IN ` + in,
		`DELETE FROM previous_secrets WHERE key_id IN ` + in,
		`DELETE FROM kept_secrets WHERE key_id IN ` + in,
		`DELETE FROM key_schedules WHERE key_id IN ` + in,
		`DELETE FROM keys WHERE id IN ` + in,
	} {
		if _, err := c.exec(query, ids...); err != nil {
			return err
		}
	}
	c.deleted = c.deleted[:0]
	return nil
}

// update sets columns of k's row (set is "col = ?, …" with its args, or
// empty) and stamps the row and k as changed now by the actor.
func (c *changeTx) update(k *Key, set string, args ...any) error {
	args = append(args, c.now.Unix(), c.actor.Username, k.rowID)
	if set != "" {
		set += ", "
	}
	if _, err := c.exec(`UPDATE keys SET `+set+`updated_at = ?, updated_by = ? WHERE id = ?`, args...); err != nil {
		return err
	}
	k.UpdatedAt, k.UpdatedBy = c.now, c.actor.Username
	return nil
}

// keyEvent is the event of a change to k.
func keyEvent(k *Key, action string, changes map[string]Change) *eventRecord {
	return &eventRecord{Action: action, TargetType: TargetKey, TargetID: k.ID, TargetName: k.Name, Changes: changes, org: k.orgRow}
}

func enableChange(enable bool) keyChange {
	action := KeyDisable
	if enable {
		action = KeyEnable
	}
	return keyChange{action: action, apply: func(c *changeTx, k *Key) (*eventRecord, error) {
		if k.Enabled == enable {
			return nil, nil
		}
		eventAction := ActionKeyDisabled
		if enable {
			eventAction = ActionKeyEnabled
		}
		ev := keyEvent(k, eventAction, map[string]Change{"enabled": {Before: k.Enabled, After: enable}})
		k.Enabled, k.EnabledAt, k.EnabledBy = enable, c.now, c.actor.Username
		return ev, c.update(k, "enabled = ?, enabled_at = ?, enabled_by = ?", enable, c.now.Unix(), c.actor.Username)
	}}
}

func expireNowChange() keyChange {
	return keyChange{action: KeyExpireNow, apply: func(c *changeTx, k *Key) (*eventRecord, error) {
		if k.Expired(c.now) {
			return nil, Errorf(ECONFLICT, "", "Key %q already expired on %s.", k.Name, k.ExpiresAt.Format("2006-01-02 15:04 UTC"))
		}
		return setExpiry(c, k, c.now, ActionKeyExpired)
	}}
}

func expiryChange(at time.Time) keyChange {
	return keyChange{action: KeySetExpiry, apply: func(c *changeTx, k *Key) (*eventRecord, error) {
		at := at.UTC().Truncate(time.Second)
		if msg := ExpiryProblem(at, c.now); msg != "" {
			return nil, &Error{Code: EINVALID, Field: "expires_at", Message: msg}
		}
		org, err := orgByRow(c.ctx, c.tx, k.orgRow)
		if err != nil {
			return nil, err
		}
		if err := checkMaxExpiry(org, c.now, at); err != nil {
			return nil, err
		}
		action := ActionKeyExpirySet
		if at.IsZero() {
			action = ActionKeyExpiryClear
		}
		return setExpiry(c, k, at, action)
	}}
}

// setExpiry makes k expire at at (never, for the zero time).
func setExpiry(c *changeTx, k *Key, at time.Time, action string) (*eventRecord, error) {
	if at.Equal(k.ExpiresAt) {
		return nil, nil
	}
	ev := keyEvent(k, action, map[string]Change{"expires_at": {Before: timeValue(k.ExpiresAt), After: timeValue(at)}})
	k.ExpiresAt, k.ExpirySetAt, k.ExpirySetBy = at, c.now, c.actor.Username
	return ev, c.update(k, "expires_at = ?, expiry_set_at = ?, expiry_set_by = ?", unix(at), c.now.Unix(), c.actor.Username)
}

func revokeChange() keyChange {
	return keyChange{action: KeyRevoke, apply: func(c *changeTx, k *Key) (*eventRecord, error) {
		if k.Expired(c.now) {
			return nil, Errorf(ECONFLICT, "", "Key %q expired on %s; only a usable key can be revoked.",
				k.Name, k.ExpiresAt.Format("2006-01-02 15:04 UTC"))
		}
		ev := keyEvent(k, ActionKeyRevoked, map[string]Change{"revoked": {Before: false, After: true}})
		k.RevokedAt, k.RevokedBy = c.now, c.actor.Username
		// A revoked key's secret is of no use to anyone: it is no longer
		// kept, nor rotated.
		k.SecretKept, k.Uncollected, k.RotateDueAt = false, false, time.Time{}
		if err := (keptSecret{}).keep(c.ctx, c.stmts, k.rowID); err != nil {
			return nil, err
		}
		if _, err := c.exec(`UPDATE key_schedules SET due_at = NULL WHERE key_id = ?`, k.rowID); err != nil {
			return nil, err
		}
		return ev, c.update(k, `revoked_at = ?, revoked_by = ?`, c.now.Unix(), c.actor.Username)
	}}
}

func renameChange(name string) keyChange {
	return keyChange{action: KeyRename, apply: func(c *changeTx, k *Key) (*eventRecord, error) {
		name := strings.TrimSpace(name)
		if msg := KeyNameProblem(name); msg != "" {
			return nil, &Error{Code: EINVALID, Field: "name", Message: msg}
		}
		if name == k.Name {
			return nil, nil
		}
		if foldName(name) != foldName(k.Name) {
			if err := checkKeyNameFree(c.ctx, c.tx, k.orgRow, name); err != nil {
				return nil, err
			}
		}
		if err := c.text.renameKey(c.ctx, c.tx, k.rowID, name, k.CreatedBy); err != nil {
			return nil, err
		}
		ev := keyEvent(k, ActionKeyRenamed, map[string]Change{"name": {Before: k.Name, After: name}})
		ev.TargetName = name
		k.Name = name
		return ev, c.update(k, "name = ?, name_fold = ?, name_sort = ?", name, foldName(name), sortName(name))
	}}
}

func rateLimitChange(capacity, frequency int) keyChange {
	return keyChange{action: KeyRateLimit, apply: func(c *changeTx, k *Key) (*eventRecord, error) {
		if field, msg := RateLimitProblem(capacity, frequency); msg != "" {
			return nil, &Error{Code: EINVALID, Field: field, Message: msg}
		}
		if capacity == k.Capacity && frequency == k.Frequency {
			return nil, nil
		}
		ev := keyEvent(k, ActionKeyRateLimitSet, map[string]Change{
			"rate_limit": {Before: rateLimitText(k.Capacity, k.Frequency), After: rateLimitText(capacity, frequency)},
		})
		k.Capacity, k.Frequency = capacity, frequency
		return ev, c.update(k, "capacity = ?, frequency = ?", capacity, frequency)
	}}
}

func deleteChange() keyChange {
	return keyChange{action: KeyDelete, apply: func(c *changeTx, k *Key) (*eventRecord, error) {
		ev := keyEvent(k, ActionKeyDeleted, nil)
		ev.Details = map[string]any{"permissions": k.Permissions, "status": k.Status(c.now).String()}
		c.deleted = append(c.deleted, k.rowID) // until the flush
		return ev, nil
	}}
}

// bulkChanges are the changes that apply to many keys at once.
var bulkChanges = map[KeyAction]keyChange{
	KeyEnable:  enableChange(true),
	KeyDisable: enableChange(false),
	KeyRevoke:  revokeChange(),
	KeyDelete:  deleteChange(),
}

// EnableKey switches a key on. Enabling an enabled key changes nothing.
func (s *Store) EnableKey(ctx context.Context, actor Actor, id string) (Key, error) {
	return s.changeKey(ctx, actor, id, enableChange(true))
}

// DisableKey switches a key off; it fails verification until enabled again.
func (s *Store) DisableKey(ctx context.Context, actor Actor, id string) (Key, error) {
	return s.changeKey(ctx, actor, id, enableChange(false))
}

// ExpireKey makes a key expire now.
func (s *Store) ExpireKey(ctx context.Context, actor Actor, id string) (Key, error) {
	return s.changeKey(ctx, actor, id, expireNowChange())
}

// SetKeyExpiry sets when a key expires (a future time), or that it never
// does (the zero time). Setting a later date extends a key, even an expired one.
func (s *Store) SetKeyExpiry(ctx context.Context, actor Actor, id string, expiresAt time.Time) (Key, error) {
	return s.changeKey(ctx, actor, id, expiryChange(expiresAt))
}

// RevokeKey revokes a key, for good. Only a usable key can be revoked.
func (s *Store) RevokeKey(ctx context.Context, actor Actor, id string) (Key, error) {
	return s.changeKey(ctx, actor, id, revokeChange())
}

// RenameKey gives a key a new name. Its history follows it: events find
// the key by its id.
func (s *Store) RenameKey(ctx context.Context, actor Actor, id, name string) (Key, error) {
	return s.changeKey(ctx, actor, id, renameChange(name))
}

// SetKeyRateLimit sets how many verifications a key may have per frequency
// seconds. The new limit applies from the next verification, with a full
// allowance.
func (s *Store) SetKeyRateLimit(ctx context.Context, actor Actor, id string, capacity, frequency int) (Key, error) {
	return s.changeKey(ctx, actor, id, rateLimitChange(capacity, frequency))
}

// DeleteKey removes a key. Its events stay in the audit log.
func (s *Store) DeleteKey(ctx context.Context, actor Actor, id string) (Key, error) {
	return s.changeKey(ctx, actor, id, deleteChange())
}

// KeyUpdate is a change of several of a key's fields at once; a nil field
// stays as it is. A rate limit given by capacity or frequency alone keeps
// the other; a zero ExpiresAt means the key never expires.
type KeyUpdate struct {
	Name                *string
	Capacity, Frequency *int
	ExpiresAt           *time.Time
	RotateEveryDays     *int
	Enabled             *bool
}

// UpdateKey makes the changes of u to one key in one transaction, in this
// order: name, rate limit, expiry, schedule, enabled. Each is checked and
// recorded as the call for it alone would; if one is refused, none is
// made.
func (s *Store) UpdateKey(ctx context.Context, actor Actor, id string, u KeyUpdate) (Key, error) {
	var chs []keyChange
	if u.Name != nil {
		chs = append(chs, renameChange(*u.Name))
	}
	if u.Capacity != nil || u.Frequency != nil {
		chs = append(chs, keyChange{action: KeyRateLimit, apply: func(c *changeTx, k *Key) (*eventRecord, error) {
			capacity, frequency := k.Capacity, k.Frequency
			if u.Capacity != nil {
				capacity = *u.Capacity
			}
			if u.Frequency != nil {
				frequency = *u.Frequency
			}
			return rateLimitChange(capacity, frequency).apply(c, k)
		}})
	}
	if u.ExpiresAt != nil {
		chs = append(chs, expiryChange(*u.ExpiresAt))
	}
	if u.RotateEveryDays != nil {
		chs = append(chs, scheduleChange(*u.RotateEveryDays))
	}
	if u.Enabled != nil {
		chs = append(chs, enableChange(*u.Enabled))
	}
	return s.changeKey(ctx, actor, id, chs...)
}

// changeKey makes each of chs to one key, in one transaction: all of them
// or, when one is refused, none.
func (s *Store) changeKey(ctx context.Context, actor Actor, id string, chs ...keyChange) (Key, error) {
	var k Key
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		var err error
		if k, err = keyByID(ctx, tx, actor.Scope, id); err != nil {
			return err
		}
		c := s.newChangeTx(ctx, tx, now, actor)
		for _, ch := range chs {
			if _, err = s.applyKeyChange(c, &k, ch, ""); err != nil {
				return err
			}
		}
		return c.flush()
	})
	if err == nil {
		// After the commit: the next verification reads the key anew.
		deleted := slices.ContainsFunc(chs, func(ch keyChange) bool { return ch.action == KeyDelete })
		s.cache.drop([]int64{k.rowID}, deleted)
	}
	return k, err
}

// applyKeyChange makes one change to k and records it, with bulkID when it
// is part of a bulk action. It reports whether anything changed. A revoked
// key can only be deleted.
func (s *Store) applyKeyChange(c *changeTx, k *Key, ch keyChange, bulkID string) (bool, error) {
	if k.Revoked() && ch.action != KeyDelete {
		return false, Errorf(ECONFLICT, "", "Key %q was revoked on %s; a revoked key cannot be changed, only deleted.",
			k.Name, k.RevokedAt.Format("2006-01-02 15:04 UTC"))
	}
	ev, err := ch.apply(c, k)
	if err != nil || ev == nil {
		return false, err
	}
	ev.BulkID = bulkID
	return true, s.logEvent(c.ctx, c.stmts, c.now, c.actor, *ev)
}

// KeySelection names the keys of a bulk action: a list of ids, or every key
// that a filter selects. Expected, with a filter, is the number of keys the
// user confirmed; if the filter now selects a different number, nothing
// changes. 0 skips that check.
type KeySelection struct {
	IDs      []string
	Filter   *KeyFilter
	Expected int
}

// BulkResult says what a bulk action did.
type BulkResult struct {
	Selected int // keys the selection named
	Changed  int // keys changed
	Skipped  int // keys whose state ruled the action out, or already had it
}

// bulkChunk is how many keys a bulk action deletes at a time (a variable
// for the tests).
var bulkChunk = 500

// ChangeKeys applies one bulk action to the selected keys in one
// transaction: all of it happens, or none. Keys the action does not apply to
// (revoking an expired key, enabling an enabled one) are skipped and counted.
func (s *Store) ChangeKeys(ctx context.Context, actor Actor, action KeyAction, sel KeySelection) (BulkResult, error) {
	ch, ok := bulkChanges[action]
	if !ok {
		return BulkResult{}, Errorf(EINVALID, "action", "There is no bulk action %q.", action)
	}
	return s.changeKeys(ctx, actor, ch, sel, 0)
}

// changeKeys applies ch to the selected keys in one transaction, as
// ChangeKeys does; a selection of more than most keys (0: any number) is
// refused before anything changes.
func (s *Store) changeKeys(ctx context.Context, actor Actor, ch keyChange, sel KeySelection, most int) (BulkResult, error) {
	action := ch.action
	if (sel.Filter == nil) == (len(sel.IDs) == 0) {
		return BulkResult{}, Errorf(EINVALID, "id", "Select at least one key.")
	}
	bulkID := "bulk_" + newPublicID()
	var (
		res  BulkResult
		keys []int64
	)
	// A bulk action may change most pages of the keys' tables and indexes.
	conn, done, err := s.db.WriterWithCache(ctx, bulkCacheKiB)
	if err != nil {
		return BulkResult{}, err
	}
	defer done()
	err = s.writeOn(ctx, conn, func(tx *sql.Tx, now time.Time) error {
		var err error
		if keys, err = s.selectKeys(ctx, tx, actor.Scope, sel, now); err != nil {
			return err
		}
		res.Selected = len(keys)
		if most > 0 && len(keys) > most {
			return Errorf(EINVALID, "", "%d keys are selected; this action takes at most %s at once.", len(keys), Thousands(most))
		}
		c := s.newChangeTx(ctx, tx, now, actor)
		for i, id := range keys {
			k, err := scanKey(c.stmts.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM keys k WHERE k.id = ?`, id))
			if err != nil {
				return err
			}
			changed, err := s.applyKeyChange(c, &k, ch, bulkID)
			switch {
			case ErrorCode(err) == ECONFLICT:
				res.Skipped++
			case err != nil:
				return err
			case changed:
				res.Changed++
			default:
				res.Skipped++
			}
			if (i+1)%bulkChunk == 0 {
				if err := c.flush(); err != nil {
					return err
				}
			}
		}
		return c.flush()
	})
	if err != nil {
		return BulkResult{}, err
	}
	s.cache.drop(keys, action == KeyDelete)
	return res, nil
}

// selectKeys resolves a selection inside tx into row ids, so that a
// selection of a million keys holds a million integers, not a million keys.
func (s *Store) selectKeys(ctx context.Context, tx *sql.Tx, sc Scope, sel KeySelection, now time.Time) ([]int64, error) {
	var ids []int64
	if sel.Filter == nil {
		seen := make(map[string]bool, len(sel.IDs))
		for _, id := range sel.IDs {
			if seen[id] {
				continue
			}
			seen[id] = true
			k, err := keyByID(ctx, tx, sc, id)
			if err != nil {
				return nil, err
			}
			ids = append(ids, k.rowID)
		}
		return ids, nil
	}
	f := *sel.Filter
	if err := f.resolveScope(ctx, tx, sc); err != nil {
		return nil, err
	}
	p, err := s.planKeys(ctx, tx, f, now)
	if err != nil {
		return nil, err
	}
	if ids, err = p.ids(ctx, tx); err != nil {
		return nil, err
	}
	slices.Sort(ids) // the order keys are changed in, and their events written
	if sel.Expected > 0 && len(ids) != sel.Expected {
		return nil, Errorf(ECONFLICT, "", "The keys that match changed since you confirmed: %d match now, not %d. Nothing was changed; review the list and try again.", len(ids), sel.Expected)
	}
	return ids, nil
}

// rateLimitText is a rate limit as the audit log shows it.
func rateLimitText(capacity, frequency int) string {
	return strconv.Itoa(capacity) + " per " + strconv.Itoa(frequency) + "s"
}
