package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// The webhooks' progress in the jobs table: the last event and the last
// notice turned into deliveries.
const (
	webhookEventsMark  = "webhooks-events"
	webhookNoticesMark = "webhooks-notices"
)

// hookBatch is how many events, and how many notices, one transaction of
// QueueWebhooks reads.
const hookBatch = 2000

// The JSON bodies of deliveries; the README documents them, and they only
// ever gain fields.
type (
	hookMessage struct {
		Type      string `json:"type"`
		Timestamp string `json:"timestamp"`
		Data      any    `json:"data"`
	}
	hookKey struct {
		ID        string  `json:"id"`
		Name      string  `json:"name"`
		Org       string  `json:"org"`
		OrgPath   string  `json:"org_path"`
		ExpiresAt *string `json:"expires_at"` // null: never
	}
	hookOrg struct {
		ID   string `json:"id"`
		Path string `json:"path"`
	}
	hookEvent struct {
		ID         int64           `json:"id"`
		Action     string          `json:"action"`
		At         string          `json:"at"`
		Actor      string          `json:"actor"`
		TargetType string          `json:"target_type"`
		TargetID   string          `json:"target_id"`
		TargetName string          `json:"target_name"`
		Changes    json.RawMessage `json:"changes,omitempty"`
		Details    json.RawMessage `json:"details,omitempty"`
	}
	hookEventData struct {
		Event hookEvent `json:"event"`
		Org   hookOrg   `json:"org"`
		Key   *hookKey  `json:"key,omitempty"` // for events about a key
	}
	hookNoticeData struct {
		Key      hookKey `json:"key"`
		DaysLeft int     `json:"days_left"`
		DueAt    string  `json:"due_at"`
	}
)

func hookTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// hookBody is a delivery's body: its type, when it happened, and data.
func hookBody(typ string, at time.Time, data any) (string, error) {
	b, err := json.Marshal(hookMessage{Type: typ, Timestamp: hookTime(at), Data: data})
	return string(b), err
}

// hookTarget is a webhook as the fan-out needs it.
type hookTarget struct {
	row     int64
	ids     string // its organization's ids path
	types   []string
	created int64
}

// wants says whether the webhook takes a message of this type about the
// organization with this ids path, made at this time.
func (h hookTarget) wants(typ, ids string, at int64) bool {
	return at >= h.created && strings.HasPrefix(ids, h.ids) && slices.Contains(h.types, typ)
}

// QueueWebhooks turns the events and notices recorded since its last run
// into deliveries, one for each webhook that asks for their type at their
// organization or above. Each batch and its cursor move in one
// transaction: nothing is queued twice, nothing skipped.
func (s *Store) QueueWebhooks(ctx context.Context) (int, error) {
	x, err := s.orgs.get()
	if err != nil {
		return 0, err
	}
	total := 0
	for {
		n, more, err := s.queueWebhookBatch(ctx, x)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

func (s *Store) queueWebhookBatch(ctx context.Context, x *orgIndex) (queued int, more bool, err error) {
	err = s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		queued, more = 0, false
		hooks, err := allRows(ctx, tx, func(r rowScanner) (hookTarget, error) {
			var h hookTarget
			var org int64
			var types string
			err := r.Scan(&h.row, &org, &types, &h.created)
			if info := x.byRow[org]; info != nil {
				h.ids = info.ids
			} else {
				h.ids = "-" // its organization is gone: nothing matches
			}
			h.types = strings.Fields(types)
			return h, err
		}, `SELECT id, org_id, events, created_at FROM webhooks`)
		if err != nil {
			return err
		}
		q := &hookQueue{s: s, ctx: ctx, tx: tx, now: now, x: x, hooks: hooks, paths: map[string]string{}}
		n, moreEvents, err := q.events()
		if err != nil {
			return err
		}
		m, moreNotices, err := q.notices()
		queued, more = n+m, moreEvents || moreNotices
		return err
	})
	return queued, more, err
}

// hookQueue is one batch of QueueWebhooks, in its transaction.
type hookQueue struct {
	s     *Store
	ctx   context.Context
	tx    *sql.Tx
	now   time.Time
	x     *orgIndex
	hooks []hookTarget
	paths map[string]string // organizations' paths, by public id
}

// org describes an organization for a body.
func (q *hookQueue) org(info *orgInfo) hookOrg {
	path, ok := q.paths[info.id]
	if !ok {
		path = q.s.orgPath(q.x, info.id)
		q.paths[info.id] = path
	}
	return hookOrg{ID: info.id, Path: path}
}

// cursor reads a cursor over table; a first run, or one without any
// webhook, moves it to the table's end and reports false.
func (q *hookQueue) cursor(mark, table string) (int64, bool, error) {
	after, ok, err := jobMark(q.ctx, q.tx, mark)
	if err != nil || (ok && len(q.hooks) > 0) {
		return after, err == nil, err
	}
	if err := q.tx.QueryRowContext(q.ctx, `SELECT coalesce(max(id), 0) FROM `+table).Scan(&after); err != nil {
		return 0, false, err
	}
	return after, false, setJobMark(q.ctx, q.tx, mark, after)
}

func (q *hookQueue) events() (int, bool, error) {
	after, ok, err := q.cursor(webhookEventsMark, "events")
	if !ok {
		return 0, false, err
	}
	type row struct {
		e   hookEvent
		at  int64
		org int64
	}
	rows, err := allRows(q.ctx, q.tx, func(r rowScanner) (row, error) {
		var x row
		var changes, details string
		err := r.Scan(&x.e.ID, &x.at, &x.e.Actor, &x.e.Action, &x.e.TargetType, &x.e.TargetID, &x.e.TargetName, &changes, &details, &x.org)
		x.e.At = hookTime(time.Unix(x.at, 0))
		if changes != "" {
			x.e.Changes = json.RawMessage(changes)
		}
		if details != "" {
			x.e.Details = json.RawMessage(details)
		}
		return x, err
	}, `SELECT id, at, actor_username, action, target_type, target_id, target_name, changes, details, org_id
		FROM events WHERE id > ? ORDER BY id LIMIT ?`, after, hookBatch)
	if err != nil || len(rows) == 0 {
		return 0, false, err
	}
	n := 0
	for _, r := range rows {
		info := q.x.byRow[r.org]
		if info == nil {
			continue
		}
		var data *hookEventData
		for _, h := range q.hooks {
			if !h.wants(r.e.Action, info.ids, r.at) {
				continue
			}
			if data == nil {
				data = &hookEventData{Event: r.e, Org: q.org(info)}
				if r.e.TargetType == TargetKey {
					k, err := q.key(r.e.TargetID, r.e.TargetName, info)
					if err != nil {
						return n, false, err
					}
					data.Key = &k
				}
			}
			if err := q.deliver(h, r.e.Action, time.Unix(r.at, 0), data); err != nil {
				return n, false, err
			}
			n++
		}
	}
	return n, len(rows) == hookBatch, setJobMark(q.ctx, q.tx, webhookEventsMark, rows[len(rows)-1].e.ID)
}

func (q *hookQueue) notices() (int, bool, error) {
	after, ok, err := q.cursor(webhookNoticesMark, "notices")
	if !ok {
		return 0, false, err
	}
	type row struct {
		id, org, due, at int64
		kind, key, name  string
		days             int
	}
	rows, err := allRows(q.ctx, q.tx, func(r rowScanner) (row, error) {
		var x row
		return x, r.Scan(&x.id, &x.kind, &x.key, &x.name, &x.org, &x.due, &x.days, &x.at)
	}, `SELECT id, kind, key_id, key_name, org_id, due_for, days, at FROM notices WHERE id > ? ORDER BY id LIMIT ?`, after, hookBatch)
	if err != nil || len(rows) == 0 {
		return 0, false, err
	}
	n := 0
	for _, r := range rows {
		info := q.x.byRow[r.org]
		// A rotation or a spike is an audit action too: its event is what
		// webhooks get.
		if info == nil || slices.Contains(EventActions, r.kind) {
			continue
		}
		var data *hookNoticeData
		for _, h := range q.hooks {
			if !h.wants(r.kind, info.ids, r.at) {
				continue
			}
			if data == nil {
				k, err := q.key(r.key, r.name, info)
				if err != nil {
					return n, false, err
				}
				data = &hookNoticeData{Key: k, DaysLeft: daysBetween(r.at, r.due), DueAt: hookTime(time.Unix(r.due, 0))}
			}
			if err := q.deliver(h, r.kind, time.Unix(r.at, 0), data); err != nil {
				return n, false, err
			}
			n++
		}
	}
	return n, len(rows) == hookBatch, setJobMark(q.ctx, q.tx, webhookNoticesMark, rows[len(rows)-1].id)
}

// key describes a key for a body: as it is now, or by the name it had
// when it is gone.
func (q *hookQueue) key(id, name string, org *orgInfo) (hookKey, error) {
	o := q.org(org)
	k := hookKey{ID: id, Name: name, Org: o.ID, OrgPath: o.Path}
	var expires sql.NullInt64
	err := q.tx.QueryRowContext(q.ctx, `SELECT name, expires_at FROM keys WHERE public_id = ?`, id).Scan(&k.Name, &expires)
	if err == sql.ErrNoRows {
		return k, nil
	}
	if expires.Valid {
		at := hookTime(time.Unix(expires.Int64, 0))
		k.ExpiresAt = &at
	}
	return k, err
}

func (q *hookQueue) deliver(h hookTarget, typ string, at time.Time, data any) error {
	body, err := hookBody(typ, at, data)
	if err != nil {
		return err
	}
	_, err = queueDelivery(q.ctx, q.tx, q.now, h.row, typ, body)
	return err
}
