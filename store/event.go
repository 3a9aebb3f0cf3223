package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"time"
)

// Actor is who makes a change, and from where; every change records it.
type Actor struct {
	UserID     int64 // 0 for the system and the command line
	Username   string
	ClientAddr string
	UserAgent  string
	// Scope is the part of the organization tree the actor may change; the
	// zero Scope (the system, the command line) is the whole tree.
	Scope Scope
	// Token names the access token the actor acted through, if any: its
	// id and name, which every event they cause records.
	Token string
}

// SystemActor stands for changes that no logged-in person made: first-start
// set-up, the command line, background jobs.
func SystemActor(name string) Actor {
	return Actor{Username: name}
}

// Event actions. They are stable strings: the audit log is searched and
// exported by them.
const (
	ActionKeyCreated        = "key.created"
	ActionKeyCopied         = "key.copied"
	ActionKeyEnabled        = "key.enabled"
	ActionKeyDisabled       = "key.disabled"
	ActionKeyExpirySet      = "key.expiry_set"
	ActionKeyExpiryClear    = "key.expiry_cleared"
	ActionKeyExpired        = "key.expired"
	ActionKeyRevoked        = "key.revoked"
	ActionKeyDeleted        = "key.deleted"
	ActionKeyRenamed        = "key.renamed"
	ActionKeyRateLimitSet   = "key.rate_limit_set"
	ActionKeyRotated        = "key.rotated"
	ActionKeyGraceEnded     = "key.grace_ended"
	ActionKeyRevealed       = "key.revealed"
	ActionKeyScheduleSet    = "key.schedule_set"
	ActionKeysExported      = "keys.exported"
	ActionEventsExported    = "events.exported"
	ActionEventsPruned      = "events.pruned"
	ActionSettingsChanged   = "settings.changed"
	ActionPermissionCreated = "permission.created"
	ActionPermissionDeleted = "permission.deleted"
	ActionAccessDenied      = "access.denied"
	ActionUserCreated       = "user.created"
	ActionUserRoleChanged   = "user.role_changed"
	ActionUserMoved         = "user.moved"
	ActionUserDisabled      = "user.disabled"
	ActionUserEnabled       = "user.enabled"
	ActionUserDeleted       = "user.deleted"
	ActionPasswordChanged   = "user.password_changed"
	ActionPasswordReset     = "user.password_reset"
	ActionRoleCreated       = "role.created"
	ActionRoleUpdated       = "role.updated"
	ActionRoleDeleted       = "role.deleted"
	ActionLoginSucceeded    = "login.succeeded"
	ActionLoginFailed       = "login.failed"
	ActionLogout            = "logout"
	ActionOrgCreated        = "org.created"
	ActionOrgUpdated        = "org.updated"
	ActionOrgDeleted        = "org.deleted"
	ActionOrgPolicyChanged  = "org.policy_changed"
)

// Target types of events.
const (
	TargetKey        = "key"
	TargetUser       = "user"
	TargetRole       = "role"
	TargetSettings   = "settings"
	TargetPermission = "permission"
	TargetEvents     = "events"
	TargetOrg        = "org"
)

// Change is one field's value before and after a change.
type Change struct {
	Before any `json:"before"`
	After  any `json:"after"`
}

// eventRecord is what a change tells the audit log about itself.
type eventRecord struct {
	Action     string
	TargetType string
	TargetID   string
	TargetName string
	Changes    map[string]Change
	Details    map[string]any
	BulkID     string
	// org is the row id of the organization the event belongs to, for the
	// log of a subtree; 0 is the root.
	org int64
}

// logEvent writes an event inside tx, so that it exists exactly when the
// change it describes does.
func (s *Store) logEvent(ctx context.Context, tx execer, now time.Time, actor Actor, e eventRecord) error {
	changes, err := jsonOrEmpty(e.Changes)
	if err != nil {
		return err
	}
	if actor.Token != "" {
		d := make(map[string]any, len(e.Details)+1)
		maps.Copy(d, e.Details)
		d["token"] = actor.Token
		e.Details = d
	}
	details, err := jsonOrEmpty(e.Details)
	if err != nil {
		return err
	}
	// An event belongs to the organization of what it is about, or else to
	// the actor's.
	org := e.org
	if org == 0 {
		org = actor.Scope.orgRow()
	}
	return s.text.insertEvent(ctx, tx, []any{now.Unix(), nullID(actor.UserID), actor.Username, e.Action, e.TargetType, e.TargetID,
		e.TargetName, changes, details, e.BulkID, actor.ClientAddr, actor.UserAgent, org},
		eventTerms(actor.Username, e.Action, e.TargetType, e.TargetID, e.TargetName, e.BulkID))
}

// insertEventSQL writes an event, with values for its columns in this
// order, and then those of more, an engine's own.
func insertEventSQL(more ...[2]string) string {
	columns := "at, actor_id, actor_username, action, target_type, target_id, target_name, changes, details, bulk_id, client_addr, user_agent, org_id"
	values := "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
	for _, m := range more {
		columns += ", " + m[0]
		values += ", " + m[1]
	}
	return "INSERT INTO events (" + columns + ") VALUES (" + values + ")"
}

// eventTerms is the text indexed for an event: the words of its actor,
// action, target and bulk id. The view event_search_text computes it
// from the stored event, for the index to read back.
func eventTerms(actor, action, targetType, targetID, targetName, bulkID string) string {
	return strings.Join(searchWords(actor+" "+action+" "+targetType+" "+targetID+" "+targetName+" "+bulkID), " ")
}

func jsonOrEmpty[M ~map[string]V, V any](m M) (string, error) {
	if len(m) == 0 {
		return "", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// Event is one entry of the audit log.
type Event struct {
	ID            int64
	At            time.Time
	ActorID       int64
	ActorUsername string
	Action        string
	TargetType    string
	TargetID      string
	TargetName    string
	Changes       map[string]Change
	Details       map[string]any
	BulkID        string
	ClientAddr    string
	UserAgent     string
}

const eventColumns = `e.id, e.at, e.actor_id, e.actor_username, e.action, e.target_type, e.target_id,
	e.target_name, e.changes, e.details, e.bulk_id, e.client_addr, e.user_agent`

func scanEvent(row rowScanner) (Event, error) {
	var (
		e                Event
		at               int64
		actorID          sql.NullInt64
		changes, details string
	)
	err := row.Scan(&e.ID, &at, &actorID, &e.ActorUsername, &e.Action, &e.TargetType, &e.TargetID,
		&e.TargetName, &changes, &details, &e.BulkID, &e.ClientAddr, &e.UserAgent)
	if err != nil {
		return Event{}, err
	}
	e.At = time.Unix(at, 0).UTC()
	e.ActorID = actorID.Int64
	if changes != "" {
		if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
			return Event{}, err
		}
	}
	if details != "" {
		if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
			return Event{}, err
		}
	}
	return e, nil
}

// TargetEvents returns the newest events about one target, newest first.
func (s *Store) TargetEvents(ctx context.Context, sc Scope, targetType, targetID string, limit int) ([]Event, error) {
	page, err := s.Events(ctx, sc, EventQuery{EventFilter: EventFilter{TargetType: targetType, TargetID: targetID}, Limit: limit})
	return page.Events, err
}

// CountEvents returns the number of events in the audit log.
func (s *Store) CountEvents(ctx context.Context) (int, error) {
	var n int
	err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n)
	return n, err
}

// ChangesJSON and DetailsJSON give an event's changes and details as JSON,
// as the audit log export has them.
func (e Event) ChangesJSON() string {
	s, _ := jsonOrEmpty(e.Changes)
	return s
}

func (e Event) DetailsJSON() string {
	s, _ := jsonOrEmpty(e.Details)
	return s
}

// RecordAccessDenied records a request refused for want of a right.
// Repeats by the same person on the same route within a minute add to one
// event's count instead of adding events, so that nobody can flood the
// audit log by retrying what they may not do.
func (s *Store) RecordAccessDenied(ctx context.Context, actor Actor, route, path string) error {
	return s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		args := []any{now.Truncate(time.Minute).Unix(), ActionAccessDenied, actor.Username, route}
		who := "actor_id IS NULL"
		if id := nullID(actor.UserID); id.Valid {
			who, args = "actor_id = ?", append(args, id)
		}
		// Only this minute's events are read: the index on at bounds it.
		var last int64
		var details string
		err := tx.QueryRowContext(ctx, `SELECT id, details FROM events INDEXED BY events_by_at
			WHERE at >= ? AND action = ? AND actor_username = ? AND target_name = ? AND `+who+`
			ORDER BY id DESC LIMIT 1`, args...).Scan(&last, &details)
		if errors.Is(err, sql.ErrNoRows) {
			return s.logEvent(ctx, tx, now, actor, eventRecord{Action: ActionAccessDenied, TargetType: "route", TargetName: route,
				Details: map[string]any{"path": path, "count": 1}})
		}
		if err != nil {
			return err
		}
		d := map[string]any{"count": 1.0}
		if details != "" {
			if err := json.Unmarshal([]byte(details), &d); err != nil {
				return err
			}
		}
		n, _ := d["count"].(float64)
		d["count"] = n + 1
		if details, err = jsonOrEmpty(d); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE events SET details = ? WHERE id = ?`, details, last)
		return err
	})
}

// nullID is a user id as a column value: NULL for the system.
func nullID(id int64) sql.NullInt64 {
	return sql.NullInt64{Int64: id, Valid: id != 0}
}
