package store

import (
	"context"
	"database/sql"
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
)

// BulkActions are the actions that apply to many keys at once.
var BulkActions = []KeyAction{KeyEnable, KeyDisable, KeyRevoke, KeyDelete}

// keyChange is one action with its argument.
type keyChange struct {
	action    KeyAction
	expiresAt time.Time // for KeySetExpiry; zero means never
	name      string    // for KeyRename
	capacity  int       // for KeyRateLimit
	frequency int
	bulkID    string
}

// EnableKey switches a key on. Enabling an enabled key changes nothing.
func (s *Store) EnableKey(ctx context.Context, actor Actor, id string) (Key, error) {
	return s.changeKey(ctx, actor, id, keyChange{action: KeyEnable})
}

// DisableKey switches a key off; it fails verification until enabled again.
func (s *Store) DisableKey(ctx context.Context, actor Actor, id string) (Key, error) {
	return s.changeKey(ctx, actor, id, keyChange{action: KeyDisable})
}

// ExpireKey makes a key expire now.
func (s *Store) ExpireKey(ctx context.Context, actor Actor, id string) (Key, error) {
	return s.changeKey(ctx, actor, id, keyChange{action: KeyExpireNow})
}

// SetKeyExpiry sets when a key expires (a future time), or that it never
// does (the zero time). Setting a later date extends a key, even an expired one.
func (s *Store) SetKeyExpiry(ctx context.Context, actor Actor, id string, expiresAt time.Time) (Key, error) {
	return s.changeKey(ctx, actor, id, keyChange{action: KeySetExpiry, expiresAt: expiresAt})
}

// RevokeKey revokes a key, for good. Only a usable key can be revoked.
func (s *Store) RevokeKey(ctx context.Context, actor Actor, id string) (Key, error) {
	return s.changeKey(ctx, actor, id, keyChange{action: KeyRevoke})
}

// RenameKey gives a key a new name. Its history follows it: events find
// the key by its id.
func (s *Store) RenameKey(ctx context.Context, actor Actor, id, name string) (Key, error) {
	return s.changeKey(ctx, actor, id, keyChange{action: KeyRename, name: name})
}

// SetKeyRateLimit sets how many verifications a key may have per frequency
// seconds. The new limit applies from the next verification, with a full
// allowance.
func (s *Store) SetKeyRateLimit(ctx context.Context, actor Actor, id string, capacity, frequency int) (Key, error) {
	return s.changeKey(ctx, actor, id, keyChange{action: KeyRateLimit, capacity: capacity, frequency: frequency})
}

// DeleteKey removes a key. Its events stay in the audit log.
func (s *Store) DeleteKey(ctx context.Context, actor Actor, id string) (Key, error) {
	return s.changeKey(ctx, actor, id, keyChange{action: KeyDelete})
}

func (s *Store) changeKey(ctx context.Context, actor Actor, id string, ch keyChange) (Key, error) {
	var k Key
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if k, err = keyByID(ctx, tx, id); err != nil {
			return err
		}
		_, err = s.applyKeyChange(ctx, tx, actor, &k, ch, s.now())
		return err
	})
	if err == nil {
		// After the commit: the next verification reads the key anew.
		s.cache.drop([]int64{k.rowID}, ch.action == KeyDelete)
	}
	return k, err
}

// applyKeyChange makes one change to k inside tx, records it, and updates k
// to match. It reports whether anything changed: repeating a change that is
// already in effect (enabling an enabled key) is not an error. A change that
// k's state rules out is an ECONFLICT error.
func (s *Store) applyKeyChange(ctx context.Context, tx *sql.Tx, actor Actor, k *Key, ch keyChange, now time.Time) (bool, error) {
	ev := eventRecord{TargetType: TargetKey, TargetID: k.ID, TargetName: k.Name, BulkID: ch.bulkID}
	if k.Revoked() && ch.action != KeyDelete {
		return false, Errorf(ECONFLICT, "", "Key %q was revoked on %s; a revoked key cannot be changed, only deleted.",
			k.Name, k.RevokedAt.Format("2006-01-02 15:04 UTC"))
	}
	var (
		query string
		qargs []any
	)
	switch ch.action {
	case KeyEnable, KeyDisable:
		enable := ch.action == KeyEnable
		if k.Enabled == enable {
			return false, nil
		}
		ev.Action = ActionKeyDisabled
		if enable {
			ev.Action = ActionKeyEnabled
		}
		ev.Changes = map[string]Change{"enabled": {Before: k.Enabled, After: enable}}
		query = `UPDATE keys SET enabled = ?, enabled_at = ?, enabled_by = ?, updated_at = ?, updated_by = ? WHERE id = ?`
		qargs = []any{enable, now.Unix(), actor.Username, now.Unix(), actor.Username, k.rowID}
		k.Enabled, k.EnabledAt, k.EnabledBy = enable, now, actor.Username

	case KeyExpireNow, KeySetExpiry:
		at := now
		ev.Action = ActionKeyExpired
		if ch.action == KeySetExpiry {
			at = ch.expiresAt.UTC().Truncate(time.Second)
			if msg := ExpiryProblem(at, now); msg != "" {
				return false, &Error{Code: EINVALID, Field: "expires_at", Message: msg}
			}
			ev.Action = ActionKeyExpirySet
			if at.IsZero() {
				ev.Action = ActionKeyExpiryClear
			}
		} else if k.Expired(now) {
			return false, Errorf(ECONFLICT, "", "Key %q already expired on %s.", k.Name, k.ExpiresAt.Format("2006-01-02 15:04 UTC"))
		}
		if at.Equal(k.ExpiresAt) {
			return false, nil
		}
		ev.Changes = map[string]Change{"expires_at": {Before: timeValue(k.ExpiresAt), After: timeValue(at)}}
		query = `UPDATE keys SET expires_at = ?, expiry_set_at = ?, expiry_set_by = ?, updated_at = ?, updated_by = ? WHERE id = ?`
		qargs = []any{unix(at), now.Unix(), actor.Username, now.Unix(), actor.Username, k.rowID}
		k.ExpiresAt, k.ExpirySetAt, k.ExpirySetBy = at, now, actor.Username

	case KeyRevoke:
		if k.Expired(now) {
			return false, Errorf(ECONFLICT, "", "Key %q expired on %s; only a usable key can be revoked.",
				k.Name, k.ExpiresAt.Format("2006-01-02 15:04 UTC"))
		}
		ev.Action = ActionKeyRevoked
		ev.Changes = map[string]Change{"revoked": {Before: false, After: true}}
		query = `UPDATE keys SET revoked_at = ?, revoked_by = ?, updated_at = ?, updated_by = ? WHERE id = ?`
		qargs = []any{now.Unix(), actor.Username, now.Unix(), actor.Username, k.rowID}
		k.RevokedAt, k.RevokedBy = now, actor.Username

	case KeyRename:
		name := strings.TrimSpace(ch.name)
		if msg := KeyNameProblem(name); msg != "" {
			return false, &Error{Code: EINVALID, Field: "name", Message: msg}
		}
		if name == k.Name {
			return false, nil
		}
		if foldName(name) != foldName(k.Name) {
			if err := checkKeyNameFree(ctx, tx, name); err != nil {
				return false, err
			}
		}
		ev.Action = ActionKeyRenamed
		ev.TargetName = name
		ev.Changes = map[string]Change{"name": {Before: k.Name, After: name}}
		if _, err := tx.ExecContext(ctx, `UPDATE key_search SET terms = ? WHERE docid = ?`,
			searchTerms(name, k.CreatedBy, k.ID), k.rowID); err != nil {
			return false, err
		}
		query = `UPDATE keys SET name = ?, name_fold = ?, name_sort = ?, updated_at = ?, updated_by = ? WHERE id = ?`
		qargs = []any{name, foldName(name), sortName(name), now.Unix(), actor.Username, k.rowID}
		k.Name = name

	case KeyRateLimit:
		if field, msg := RateLimitProblem(ch.capacity, ch.frequency); msg != "" {
			return false, &Error{Code: EINVALID, Field: field, Message: msg}
		}
		if ch.capacity == k.Capacity && ch.frequency == k.Frequency {
			return false, nil
		}
		ev.Action = ActionKeyRateLimitSet
		ev.Changes = map[string]Change{
			"rate_limit": {Before: rateLimitText(k.Capacity, k.Frequency), After: rateLimitText(ch.capacity, ch.frequency)},
		}
		query = `UPDATE keys SET capacity = ?, frequency = ?, updated_at = ?, updated_by = ? WHERE id = ?`
		qargs = []any{ch.capacity, ch.frequency, now.Unix(), actor.Username, k.rowID}
		k.Capacity, k.Frequency = ch.capacity, ch.frequency

	case KeyDelete:
		ev.Action = ActionKeyDeleted
		ev.Details = map[string]any{"permissions": k.Permissions, "status": k.Status(now).String()}
		if _, err := tx.ExecContext(ctx, `DELETE FROM key_search WHERE docid = ?`, k.rowID); err != nil {
			return false, err
		}
		query = `DELETE FROM keys WHERE id = ?`
		qargs = []any{k.rowID}

	default:
		return false, Errorf(EINVALID, "action", "There is no key action %q.", ch.action)
	}
	if _, err := tx.ExecContext(ctx, query, qargs...); err != nil {
		return false, err
	}
	if ch.action != KeyDelete {
		k.UpdatedAt, k.UpdatedBy = now, actor.Username
	}
	return true, s.logEvent(ctx, tx, actor, ev)
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

// ChangeKeys applies one bulk action to the selected keys in one
// transaction: all of it happens, or none. Keys the action does not apply to
// (revoking an expired key, enabling an enabled one) are skipped and counted.
func (s *Store) ChangeKeys(ctx context.Context, actor Actor, action KeyAction, sel KeySelection) (BulkResult, error) {
	switch action {
	case KeyEnable, KeyDisable, KeyRevoke, KeyDelete:
	default:
		return BulkResult{}, Errorf(EINVALID, "action", "There is no bulk action %q.", action)
	}
	if (sel.Filter == nil) == (len(sel.IDs) == 0) {
		return BulkResult{}, Errorf(EINVALID, "id", "Select at least one key.")
	}
	now := s.now()
	ch := keyChange{action: action, bulkID: "bulk_" + newPublicID()}
	var (
		res  BulkResult
		keys []int64
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if keys, err = selectKeys(ctx, tx, sel, now); err != nil {
			return err
		}
		res.Selected = len(keys)
		for _, id := range keys {
			k, err := scanKey(tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM keys k WHERE k.id = ?`, id))
			if err != nil {
				return err
			}
			changed, err := s.applyKeyChange(ctx, tx, actor, &k, ch, now)
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
		}
		return nil
	})
	if err != nil {
		return BulkResult{}, err
	}
	s.cache.drop(keys, action == KeyDelete)
	return res, nil
}

// selectKeys resolves a selection inside tx into row ids, so that a
// selection of a million keys holds a million integers, not a million keys.
func selectKeys(ctx context.Context, tx *sql.Tx, sel KeySelection, now time.Time) ([]int64, error) {
	var ids []int64
	if sel.Filter == nil {
		seen := make(map[string]bool, len(sel.IDs))
		for _, id := range sel.IDs {
			if seen[id] {
				continue
			}
			seen[id] = true
			k, err := keyByID(ctx, tx, id)
			if err != nil {
				return nil, err
			}
			ids = append(ids, k.rowID)
		}
		return ids, nil
	}
	var a args
	where, err := sel.Filter.where(&a, now)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT k.id FROM keys k WHERE `+where+` ORDER BY k.id`, a.list...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if sel.Expected > 0 && len(ids) != sel.Expected {
		return nil, Errorf(ECONFLICT, "", "The keys that match changed since you confirmed: %d match now, not %d. Nothing was changed; review the list and try again.", len(ids), sel.Expected)
	}
	return ids, nil
}

// rateLimitText is a rate limit as the audit log shows it.
func rateLimitText(capacity, frequency int) string {
	return strconv.Itoa(capacity) + " per " + strconv.Itoa(frequency) + "s"
}
