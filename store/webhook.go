package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Webhook events and target.
const (
	ActionWebhookCreated = "webhook.created"
	ActionWebhookDeleted = "webhook.deleted"
	ActionWebhookTested  = "webhook.tested" // a test event was queued
	ActionWebhookResent  = "webhook.resent" // a delivery was queued again
	TargetWebhook        = "webhook"
	// WebhookTestType is the type of the event "Send test event" sends.
	WebhookTestType = "webhook.test"
)

// WebhookEventTypes are the types a webhook may ask for: every audit
// action, and the notices that are not audit actions.
var WebhookEventTypes = func() []string {
	types := slices.Clone(EventActions)
	for _, k := range NoticeKinds {
		if !slices.Contains(types, k) {
			types = append(types, k)
		}
	}
	return types
}()

// WebhookSecretPrefix starts every signing secret, as Standard Webhooks
// has it: the rest is the base64 of the HMAC key.
const WebhookSecretPrefix = "whsec_"

// MaxWebhookURLLen bounds a webhook's URL.
const MaxWebhookURLLen = 2000

// Delivery states.
const (
	DeliveryWaiting   = "waiting"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// DeliveryKeptFor is how long finished deliveries stay in the log.
const DeliveryKeptFor = 30 * 24 * time.Hour

// Webhook is an organization's receiver of events.
type Webhook struct {
	ID        string
	OrgID     string
	OrgPath   string
	URL       string
	Events    []string
	CreatedAt time.Time
	CreatedBy string
	// Waiting and Failed count its deliveries in those states; Last is
	// its newest delivery, nil before the first.
	Waiting, Failed int
	Last            *Delivery

	row int64
}

// Delivery is one message to a webhook and how sending it went.
type Delivery struct {
	MsgID      string
	WebhookID  string
	Type       string
	Body       string
	CreatedAt  time.Time
	State      string
	Attempts   int // tries since it was last queued
	NextTry    time.Time
	LastTry    time.Time // zero before the first
	LastStatus int       // the receiver's HTTP status; 0 when none came
	LastError  string

	// URL and Secret are where and how to send it: set by the claims
	// only. The secret signs; it is never logged nor shown again.
	URL    string
	Secret string

	row int64
}

// NewWebhook is what a webhook is made of.
type NewWebhook struct {
	OrgID  string // the actor's own organization when empty
	URL    string
	Events []string
}

// WebhookURLProblem says what is wrong with a webhook's URL, "" if
// nothing is. Where it may point (no private addresses) is for the sender
// to judge: it is the one that resolves it.
func WebhookURLProblem(raw string) string {
	if raw == "" {
		return "Enter the URL that should receive the events."
	}
	if len(raw) > MaxWebhookURLLen {
		return "Use at most 2,000 characters."
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Hostname() == "" {
		return "Enter an http:// or https:// URL, such as https://hooks.example.com/keydesk."
	}
	if u.User != nil {
		return "Leave the user name and password out of the URL: every delivery is signed instead."
	}
	return ""
}

func (in *NewWebhook) check() error {
	in.URL = strings.TrimSpace(in.URL)
	if msg := WebhookURLProblem(in.URL); msg != "" {
		return &Error{Code: EINVALID, Field: "url", Message: msg}
	}
	if msg := WebhookEventsProblem(in.Events); msg != "" {
		return &Error{Code: EINVALID, Field: "events", Message: msg}
	}
	types := slices.Clone(in.Events)
	slices.Sort(types)
	in.Events = slices.Compact(types)
	return nil
}

// WebhookEventsProblem says what is wrong with the event types a webhook
// asks for, "" if nothing is.
func WebhookEventsProblem(events []string) string {
	if len(events) == 0 {
		return "Choose at least one event type."
	}
	for _, t := range events {
		if !slices.Contains(WebhookEventTypes, t) {
			return fmt.Sprintf("There is no event type %q.", t)
		}
	}
	return ""
}

// newWebhookSecret makes a signing secret: 32 random bytes.
func newWebhookSecret() string {
	raw := make([]byte, 32)
	rand.Read(raw)
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(raw)
}

// webhookBinding is what a webhook's sealed secret is bound to: its
// public id, under a label keys' ids cannot take.
func webhookBinding(id string) string { return "webhook:" + id }

// CreateWebhook adds a webhook at an organization of the actor's scope
// and returns it with its signing secret, which is never shown again.
func (s *Store) CreateWebhook(ctx context.Context, actor Actor, in NewWebhook) (Webhook, string, error) {
	if err := in.check(); err != nil {
		return Webhook{}, "", err
	}
	m, err := s.masterKey()
	if err != nil {
		return Webhook{}, "", Errorf(ECONFLICT, "", "This server has no master key, so it cannot keep a webhook's signing secret. Its operator can set KEYDESK_MASTER_KEY or restore the key file.")
	}
	secret := newWebhookSecret()
	var w Webhook
	err = s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		org, err := actor.orgOrOwn(ctx, tx, in.OrgID)
		if err != nil {
			return err
		}
		id := "wh_" + newPublicID()
		var row int64
		err = tx.QueryRowContext(ctx, `INSERT INTO webhooks (public_id, org_id, url, events, sealed, sealed_by, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, org.rowID, in.URL, strings.Join(in.Events, " "),
			m.seal(secret, webhookBinding(id)), m.ID(), now.Unix(), actor.Username).Scan(&row)
		if err != nil {
			return err
		}
		w = Webhook{ID: id, OrgID: org.ID, OrgPath: org.Path, URL: in.URL, Events: in.Events, CreatedAt: now, CreatedBy: actor.Username, row: row}
		return s.logEvent(ctx, tx, now, actor, webhookEvent(ActionWebhookCreated, w, org.rowID, nil))
	})
	return w, secret, err
}

// webhookEvent records a change to a webhook, named by its URL as
// WebhookURLShown writes it, with extra details.
func webhookEvent(action string, w Webhook, org int64, details map[string]any) eventRecord {
	d := map[string]any{"events": strings.Join(w.Events, " "), "org": w.OrgPath}
	maps.Copy(d, details)
	return eventRecord{Action: action, TargetType: TargetWebhook, TargetID: w.ID, TargetName: WebhookURLShown(w.URL), Details: d, org: org}
}

// WebhookURLShown is a webhook's URL as logs, the audit log, titles and
// lists show it: its scheme and host, and of a long path, or any query,
// only "…" and their last four characters, since receivers often carry
// their token there.
func WebhookURLShown(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(a webhook)"
	}
	rest := u.EscapedPath()
	if u.RawQuery != "" {
		rest += "?" + u.RawQuery
	}
	if u.RawQuery != "" || len(rest) > 12 {
		rest = "/…" + rest[len(rest)-min(4, len(rest)):]
	}
	return u.Scheme + "://" + u.Host + rest
}

// DeleteWebhook deletes a webhook of the actor's scope, with its
// deliveries.
func (s *Store) DeleteWebhook(ctx context.Context, actor Actor, id string) (Webhook, error) {
	var w Webhook
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		var org int64
		var err error
		if w, org, err = s.webhook(ctx, tx, actor.Scope, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, w.row); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, now, actor, webhookEvent(ActionWebhookDeleted, w, org, nil))
	})
	return w, err
}

const webhookColumns = `w.id, w.public_id, w.org_id, w.url, w.events, w.created_at, w.created_by,
	(SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'waiting'),
	(SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'failed')`

// scanWebhook reads webhookColumns; org is the webhook's organization's
// row id, to be named by the caller.
func scanWebhook(r rowScanner) (w Webhook, org int64, err error) {
	var events string
	var created int64
	err = r.Scan(&w.row, &w.ID, &org, &w.URL, &events, &created, &w.CreatedBy, &w.Waiting, &w.Failed)
	w.Events = strings.Fields(events)
	w.CreatedAt = time.Unix(created, 0).UTC()
	return w, org, err
}

// Webhooks lists the webhooks of the scope, by organization then URL,
// each with its newest delivery.
func (s *Store) Webhooks(ctx context.Context, sc Scope) ([]Webhook, error) {
	x, err := s.orgs.get()
	if err != nil {
		return nil, err
	}
	return readValue(ctx, s, func(tx *sql.Tx) ([]Webhook, error) {
		a := &args{}
		rows, err := tx.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks w WHERE `+sc.orgCondition(a, "w.org_id")+` ORDER BY w.id`, a.list...)
		if err != nil {
			return nil, err
		}
		var out []Webhook
		for rows.Next() {
			w, org, err := scanWebhook(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			s.nameWebhookOrg(x, &w, org)
			out = append(out, w)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for i := range out {
			last, err := deliveries(ctx, tx, out[i], 1)
			if err != nil {
				return nil, err
			}
			if len(last) == 1 {
				out[i].Last = &last[0]
			}
		}
		slices.SortStableFunc(out, func(a, b Webhook) int {
			return strings.Compare(a.OrgPath+"\x00"+a.URL, b.OrgPath+"\x00"+b.URL)
		})
		return out, nil
	})
}

func (s *Store) nameWebhookOrg(x *orgIndex, w *Webhook, org int64) {
	if info := x.byRow[org]; info != nil {
		w.OrgID = info.id
		w.OrgPath = s.orgPath(x, info.id)
	}
}

// Webhook reads a webhook of the scope, with its newest deliveries (at
// most limit).
func (s *Store) Webhook(ctx context.Context, sc Scope, id string, limit int) (Webhook, []Delivery, error) {
	var w Webhook
	var log []Delivery
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		if w, _, err = s.webhook(ctx, tx, sc, id); err != nil {
			return err
		}
		log, err = deliveries(ctx, tx, w, limit)
		return err
	})
	return w, log, err
}

// webhook reads the webhook with this public id, if it is in the scope.
func (s *Store) webhook(ctx context.Context, tx *sql.Tx, sc Scope, id string) (Webhook, int64, error) {
	x, err := s.orgs.get()
	if err != nil {
		return Webhook{}, 0, err
	}
	w, org, err := scanWebhook(tx.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks w WHERE w.public_id = ?`, id))
	info := x.byRow[org]
	if err == sql.ErrNoRows || (err == nil && (info == nil || !sc.contains(info.ids))) {
		return Webhook{}, 0, Errorf(ENOTFOUND, "", "There is no such webhook. It may have been deleted.")
	}
	if err != nil {
		return Webhook{}, 0, err
	}
	s.nameWebhookOrg(x, &w, org)
	return w, org, nil
}

const deliveryColumns = `d.id, d.msg_id, d.type, d.body, d.created_at, d.state, d.attempts, d.next_try, coalesce(d.last_try, 0), d.last_status, d.last_error`

func scanDelivery(r rowScanner) (Delivery, error) {
	var d Delivery
	var created, next, last int64
	err := r.Scan(&d.row, &d.MsgID, &d.Type, &d.Body, &created, &d.State, &d.Attempts, &next, &last, &d.LastStatus, &d.LastError)
	d.CreatedAt, d.NextTry = time.Unix(created, 0).UTC(), time.Unix(next, 0).UTC()
	if last != 0 {
		d.LastTry = time.Unix(last, 0).UTC()
	}
	return d, err
}

// deliveries lists w's newest deliveries, newest first.
func deliveries(ctx context.Context, tx *sql.Tx, w Webhook, limit int) ([]Delivery, error) {
	out, err := allRows(ctx, tx, scanDelivery, `SELECT `+deliveryColumns+` FROM webhook_deliveries d
		WHERE d.webhook_id = ? ORDER BY d.id DESC LIMIT ?`, w.row, limit)
	for i := range out {
		out[i].WebhookID = w.ID
	}
	return out, err
}

// QueueTestEvent queues a test event to a webhook of the actor's scope,
// due now, and returns its message id.
func (s *Store) QueueTestEvent(ctx context.Context, actor Actor, id string) (string, error) {
	var msg string
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		w, org, err := s.webhook(ctx, tx, actor.Scope, id)
		if err != nil {
			return err
		}
		body, err := hookBody(WebhookTestType, now, map[string]any{
			"webhook": map[string]any{"id": w.ID, "org": w.OrgID},
			"message": "A test event sent by " + actor.Username + " from Keydesk.",
		})
		if err != nil {
			return err
		}
		if msg, err = queueDelivery(ctx, tx, now, w.row, WebhookTestType, body); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, now, actor, webhookEvent(ActionWebhookTested, w, org, map[string]any{"message": msg}))
	})
	return msg, err
}

// QueueAgain queues a delivery of a webhook of the actor's scope again,
// due now, with a fresh round of tries; its message id stays, so that a
// receiver can tell it got it before. One being sent now is left alone.
func (s *Store) QueueAgain(ctx context.Context, actor Actor, id, msgID string) error {
	return s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		w, org, err := s.webhook(ctx, tx, actor.Scope, id)
		if err != nil {
			return err
		}
		var d Delivery
		var lease sql.NullInt64
		err = tx.QueryRowContext(ctx, `SELECT id, type, lease_until FROM webhook_deliveries WHERE webhook_id = ? AND msg_id = ?`, w.row, msgID).Scan(&d.row, &d.Type, &lease)
		if err == sql.ErrNoRows {
			return Errorf(ENOTFOUND, "", "There is no such delivery. It may be older than the log keeps.")
		}
		if err != nil {
			return err
		}
		if lease.Valid && lease.Int64 > now.Unix() {
			return Errorf(ECONFLICT, "", "This delivery is being sent right now. Look again in a minute.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = 'waiting', attempts = 0, next_try = ?, owner = NULL, lease_until = NULL
			WHERE id = ?`, now.Unix(), d.row); err != nil {
			return err
		}
		return s.logEvent(ctx, tx, now, actor, webhookEvent(ActionWebhookResent, w, org, map[string]any{"message": msgID, "type": d.Type}))
	})
}

// queueDelivery adds a message to a webhook, due now.
func queueDelivery(ctx context.Context, tx *sql.Tx, now time.Time, webhook int64, typ, body string) (string, error) {
	msg := "msg_" + randomString(24, publicIDAlphabet)
	_, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (msg_id, webhook_id, type, body, created_at, next_try)
		VALUES (?, ?, ?, ?, ?, ?)`, msg, webhook, typ, body, now.Unix(), now.Unix())
	return msg, err
}

// ClaimDeliveries claims at most n deliveries that are due, for owner
// until now+lease, each with its URL and secret; with msgID, that one
// only (whether due or not, unless another owner holds it).
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, lease time.Duration, n int, msgID string) ([]Delivery, error) {
	var out []Delivery
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		which := `state = 'waiting' AND next_try <= ?1`
		if msgID != "" {
			which = `state = 'waiting' AND msg_id = ?4`
		}
		type claim struct{ row, hook, due int64 }
		claimed, err := allRows(ctx, tx, func(r rowScanner) (claim, error) {
			var c claim
			return c, r.Scan(&c.row, &c.hook, &c.due)
		}, `UPDATE webhook_deliveries SET owner = ?2, lease_until = ?3
			WHERE id IN (SELECT id FROM webhook_deliveries WHERE `+which+` AND (lease_until IS NULL OR lease_until <= ?1)
				ORDER BY next_try, id LIMIT ?5)
			RETURNING id, webhook_id, next_try`, now.Unix(), owner, now.Add(lease).Unix(), msgID, n)
		if err != nil {
			return err
		}
		// RETURNING keeps no order: the oldest due go first.
		slices.SortFunc(claimed, func(a, b claim) int {
			return cmp.Or(cmp.Compare(a.due, b.due), cmp.Compare(a.row, b.row))
		})
		hooks := map[int64]Delivery{}
		for _, c := range claimed {
			d, err := scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d WHERE d.id = ?`, c.row))
			if err != nil {
				return err
			}
			target, ok := hooks[c.hook]
			if !ok {
				if target, err = s.deliveryTarget(ctx, tx, c.hook); err != nil {
					return err
				}
				hooks[c.hook] = target
			}
			d.WebhookID, d.URL, d.Secret = target.WebhookID, target.URL, target.Secret
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// deliveryTarget reads where a webhook's deliveries go and opens its
// secret; a secret that does not open leaves it empty, for the sender to
// record as the delivery's failure.
func (s *Store) deliveryTarget(ctx context.Context, tx *sql.Tx, row int64) (Delivery, error) {
	var d Delivery
	var sealed []byte
	if err := tx.QueryRowContext(ctx, `SELECT public_id, url, sealed FROM webhooks WHERE id = ?`, row).Scan(&d.WebhookID, &d.URL, &sealed); err != nil {
		return d, err
	}
	if m, err := s.masterKey(); err == nil {
		if plain, err := m.openBytes(sealed, webhookBinding(d.WebhookID)); err == nil {
			d.Secret = string(plain)
		}
	}
	return d, nil
}

// RecordDeliveryTry records how owner's try of d went: status is the
// receiver's HTTP status (0 when none came), why what went wrong, nil
// for a 2xx answer. A failed try is tried again on RetryDelays' schedule,
// and marked failed after the last. A claim that lapsed records nothing.
func (s *Store) RecordDeliveryTry(ctx context.Context, owner string, d Delivery, status int, why error) (Delivery, error) {
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		d.Attempts++
		d.LastTry, d.LastStatus, d.LastError = now, status, ""
		d.State = DeliveryDelivered
		if why != nil {
			d.LastError = truncate(why.Error(), 500)
			next, more := retryAfter(d.Attempts, now)
			d.State = DeliveryFailed
			if more {
				d.State, d.NextTry = DeliveryWaiting, next
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = ?, attempts = ?, next_try = ?, last_try = ?, last_status = ?,
			last_error = ?, owner = NULL, lease_until = NULL WHERE id = ? AND owner = ?`,
			d.State, d.Attempts, d.NextTry.Unix(), now.Unix(), status, d.LastError, d.row, owner)
		return err
	})
	return d, err
}

// truncate cuts s to at most n bytes, at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// PruneDeliveries deletes the finished deliveries older than
// DeliveryKeptFor.
func (s *Store) PruneDeliveries(ctx context.Context) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE state != 'waiting' AND created_at < ?`, now.Add(-DeliveryKeptFor).Unix())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// rekeyWebhooks moves the webhooks' secrets from the master key old to
// next, inside Rekey's transaction.
func rekeyWebhooks(ctx context.Context, tx *sql.Tx, old, next *MasterKey) (int, error) {
	type hook struct {
		row    int64
		id, by string
		sealed []byte
	}
	all, err := allRows(ctx, tx, func(r rowScanner) (hook, error) {
		var h hook
		return h, r.Scan(&h.row, &h.id, &h.by, &h.sealed)
	}, `SELECT id, public_id, sealed_by, sealed FROM webhooks`)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, h := range all {
		switch h.by {
		case next.ID():
			continue
		case old.ID():
		default:
			return n, fmt.Errorf("the secret of webhook %s is sealed under master key %s, neither the current one (%s) nor the new one: nothing was changed", h.id, h.by, old.ID())
		}
		plain, err := old.openBytes(h.sealed, webhookBinding(h.id))
		if err != nil {
			return n, fmt.Errorf("the secret of webhook %s does not decrypt under master key %s: nothing was changed", h.id, old.ID())
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET sealed = ?, sealed_by = ? WHERE id = ?`, next.seal(string(plain), webhookBinding(h.id)), next.ID(), h.row); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
