package store

import (
	"context"
	"database/sql"
	"slices"
	"time"
)

// Notice kinds: what a notice warns of. They are also webhook event types.
const (
	// NoticeExpiring: a key expires in Days days; Days 0 says it has just
	// expired.
	NoticeExpiring = "key.expiring"
	// NoticeRotationDue: a key's scheduled rotation is due in Days days.
	NoticeRotationDue = "key.rotation_due"
	// NoticeGraceEnding: a rotated secret stops working in Days days.
	NoticeGraceEnding = "key.grace_ending"
	// NoticeRotated: a key was rotated (by hand or on its schedule).
	NoticeRotated = "key.rotated"
	// NoticeUsageSpike: a key was verified far more than usual in an
	// hour; Figure is the count, Usual its usual hourly count.
	NoticeUsageSpike = "key.usage_spike"
)

// NoticeKinds lists every kind, in the order a profile offers them.
var NoticeKinds = []string{NoticeExpiring, NoticeRotationDue, NoticeGraceEnding, NoticeRotated, NoticeUsageSpike}

// Notice timing.
var (
	// DefaultNoticeDays are the days before a key's expiry that notices
	// go out, unless the key's organization's policy sets others.
	DefaultNoticeDays = []int{30, 14, 7, 3, 1}
	// RotationNoticeDays is how long before a scheduled rotation its
	// notice goes out.
	RotationNoticeDays = 30
	// GraceNoticeDays are the days before a rotated secret's grace ends
	// that notices go out.
	GraceNoticeDays = []int{3, 1}
)

// NoticesJob is the notices job's name in the jobs table, whose mark is
// the end of the last window planned; noticeEventsMark's is the last
// event read.
const (
	NoticesJob       = "notices"
	noticeEventsMark = "notices-events"
)

// Notice is one notice, with its key as it was when it was raised.
type Notice struct {
	ID      int64
	Kind    string
	KeyID   string
	KeyName string
	OrgID   string
	OrgPath string
	// DueFor is what it warns of: the expiry, the rotation, the grace's
	// end; or when the key was rotated.
	DueFor time.Time
	Days   int
	At     time.Time
	// Figure and Usual are a usage spike's count in its hour and the
	// key's usual hourly count.
	Figure, Usual int64
}

// DaysLeft is how many days were left, rounded, when the notice was
// raised: its threshold when raised on time, fewer when raised late
// (after a stop, or for a key made inside a window).
func (n Notice) DaysLeft() int { return daysBetween(n.At.Unix(), n.DueFor.Unix()) }

func daysBetween(from, to int64) int {
	if to <= from {
		return 0
	}
	return int((to - from + 43200) / 86400)
}

// NoticeRun says what one planning of notices did.
type NoticeRun struct {
	Raised int // notices raised
	Mails  int // notices queued for someone's email
}

// PlanNotices raises the notices whose moment came since the last run, up
// to the store's clock, and queues each for the users who should get it.
//
// A notice's moment is some days before what it warns of: a threshold that
// fell in (last run, now] raises its notice. So a key created or extended
// inside a window gets only the notices whose moment is still ahead (a key
// created expiring in 5 days gets the 3- and 1-day ones), and a run after
// a stop raises what the stop missed, the nearest threshold of each key
// only. The window, the notices and their mail move in one transaction,
// and a notice is unique for what it warns of and its days: a crash, a
// second run, or two processes, never raise one twice nor skip one.
//
// The first run of a database catches up once: each key whose expiry,
// scheduled rotation or grace end is still ahead gets the notice of the
// nearest threshold already passed (a key expiring in 6 days hears so at
// once, with the days really left), and nothing about what is already
// over.
func (s *Store) PlanNotices(ctx context.Context) (NoticeRun, error) {
	var run NoticeRun
	x, err := s.orgs.get()
	if err != nil {
		return run, err
	}
	orgs := make(map[int64]Org, len(x.tree))
	for _, o := range x.tree {
		orgs[o.rowID] = o
	}
	err = s.write(ctx, func(tx *sql.Tx, now time.Time) error {
		run = NoticeRun{}
		from, ok, err := jobMark(ctx, tx, NoticesJob)
		if err != nil {
			return err
		}
		p := &noticePlan{ctx: ctx, tx: tx, now: now, orgs: orgs, recipients: map[recipientsKey][]int64{}}
		if !ok {
			from, p.onlyAhead = now.Add(-noticeLookback(orgs)).Unix(), true
		}
		if from < now.Unix() {
			if err := p.timed(time.Unix(from, 0).UTC(), now); err != nil {
				return err
			}
		}
		if err := p.rotations(); err != nil {
			return err
		}
		run = p.run
		return setJobMark(ctx, tx, NoticesJob, now.Unix())
	})
	return run, err
}

// noticePlan is one planning of notices, in its transaction.
type noticePlan struct {
	ctx        context.Context
	tx         *sql.Tx
	now        time.Time
	orgs       map[int64]Org
	recipients map[recipientsKey][]int64
	run        NoticeRun
	// onlyAhead leaves out what is already over: the first run's catching
	// up raises no notice of a past expiry, rotation or grace end.
	onlyAhead bool
}

// noticeLookback is how far back the first run catches up: the furthest
// notice ahead of any policy, or of rotations.
func noticeLookback(orgs map[int64]Org) time.Duration {
	days := RotationNoticeDays
	for _, o := range orgs {
		days = max(days, slices.Max(o.Effective.NoticeSchedule()))
	}
	return time.Duration(days) * 24 * time.Hour
}

// noticeKey is a key a notice may be about.
type noticeKey struct {
	row       int64
	id, name  string
	org       int64
	createdBy string
	createdAt int64
}

// timed raises the notices whose moment falls in (from, to].
func (p *noticePlan) timed(from, to time.Time) error {
	a, b := from.Unix(), to.Unix()
	// Expiry: each threshold of the key's organization's policy, and 0
	// for the expiry itself. A key whose threshold fell before it was
	// created is skipped.
	days := []int{0}
	for _, o := range p.orgs {
		for _, d := range o.Effective.NoticeSchedule() {
			if !slices.Contains(days, d) {
				days = append(days, d)
			}
		}
	}
	// The nearest threshold first, so that a key past several in one
	// window (after a stop) gets only that one.
	slices.Sort(days)
	seen := map[int64]bool{}
	for _, d := range days {
		shift := int64(d) * 86400
		err := p.keys(`SELECT k.id, k.public_id, k.name, k.org_id, k.created_by, k.created_at, k.expires_at
			FROM keys k INDEXED BY keys_by_expiry WHERE k.expires_sort > ?1 AND k.expires_sort <= ?2 AND k.revoked_at IS NULL`,
			func(k noticeKey, due int64) error {
				if seen[k.row] || due-shift < k.createdAt || (d > 0 && !slices.Contains(p.orgs[k.org].Effective.NoticeSchedule(), d)) {
					return nil
				}
				seen[k.row] = true
				return p.raise(k, NoticeExpiring, due, d, time.Unix(due-shift, 0))
			}, a+shift, b+shift)
		if err != nil {
			return err
		}
	}
	// Scheduled rotations, RotationNoticeDays ahead.
	shift := int64(RotationNoticeDays) * 86400
	err := p.keys(`SELECT k.id, k.public_id, k.name, k.org_id, k.created_by, k.created_at, s.due_at
		FROM key_schedules s JOIN keys k ON k.id = s.key_id
		WHERE s.due_at > ?1 AND s.due_at <= ?2 AND k.revoked_at IS NULL`,
		func(k noticeKey, due int64) error {
			if due-shift < k.createdAt {
				return nil
			}
			return p.raise(k, NoticeRotationDue, due, RotationNoticeDays, time.Unix(due-shift, 0))
		}, a+shift, b+shift)
	if err != nil {
		return err
	}
	// Grace ends: each previous secret's, when its grace was longer than
	// the days ahead.
	graceSeen := map[[2]int64]bool{}
	for _, d := range GraceNoticeDays {
		shift := int64(d) * 86400
		err := p.keys(`SELECT k.id, k.public_id, k.name, k.org_id, k.created_by, k.created_at, ps.grace_until
			FROM previous_secrets ps JOIN keys k ON k.id = ps.key_id
			WHERE ps.grace_until > ?1 AND ps.grace_until <= ?2 AND ps.grace_until - ps.replaced_at > ?3 AND k.revoked_at IS NULL`,
			func(k noticeKey, due int64) error {
				if graceSeen[[2]int64{k.row, due}] {
					return nil
				}
				graceSeen[[2]int64{k.row, due}] = true
				return p.raise(k, NoticeGraceEnding, due, d, time.Unix(due-shift, 0))
			}, a+shift, b+shift, shift)
		if err != nil {
			return err
		}
	}
	return nil
}

// rotations raises a notice for each rotation recorded since the last
// run: the audit log says when it happened, whoever made it.
func (p *noticePlan) rotations() error {
	after, ok, err := jobMark(p.ctx, p.tx, noticeEventsMark)
	if err != nil {
		return err
	}
	if !ok {
		// The first run starts at the log's end.
		if err := p.tx.QueryRowContext(p.ctx, `SELECT coalesce(max(id), 0) FROM events`).Scan(&after); err != nil {
			return err
		}
		return setJobMark(p.ctx, p.tx, noticeEventsMark, after)
	}
	last := after
	err = p.keys(`SELECT k.id, k.public_id, k.name, k.org_id, k.created_by, k.created_at, e.at
		FROM events e JOIN keys k ON k.public_id = e.target_id
		WHERE e.id > ?1 AND e.action = ?2 AND e.target_type = ?3 ORDER BY e.id`,
		func(k noticeKey, at int64) error {
			return p.raise(k, NoticeRotated, at, 0, time.Unix(at, 0))
		}, after, ActionKeyRotated, TargetKey)
	if err != nil {
		return err
	}
	if err := p.tx.QueryRowContext(p.ctx, `SELECT coalesce(max(id), ?) FROM events`, last).Scan(&last); err != nil {
		return err
	}
	return setJobMark(p.ctx, p.tx, noticeEventsMark, last)
}

// keys reads the keys of query, each with the time its notice warns of,
// and calls fn with each after the query is done (fn writes).
func (p *noticePlan) keys(query string, fn func(noticeKey, int64) error, args ...any) error {
	type row struct {
		k   noticeKey
		due int64
	}
	rows, err := allRows(p.ctx, p.tx, func(r rowScanner) (row, error) {
		var x row
		return x, r.Scan(&x.k.row, &x.k.id, &x.k.name, &x.k.org, &x.k.createdBy, &x.k.createdAt, &x.due)
	}, query, args...)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := fn(r.k, r.due); err != nil {
			return err
		}
	}
	return nil
}

// raise records a notice, unless it was raised before, and queues it for
// its recipients.
func (p *noticePlan) raise(k noticeKey, kind string, dueFor int64, days int, moment time.Time) error {
	return p.raiseWith(k, kind, dueFor, days, 0, 0)
}

// raiseWith raises a notice that names figures: a spike's count in its
// hour and its usual hourly count.
func (p *noticePlan) raiseWith(k noticeKey, kind string, dueFor int64, days int, figure, usual int64) error {
	if p.onlyAhead && dueFor <= p.now.Unix() {
		return nil
	}
	var id int64
	err := p.tx.QueryRowContext(p.ctx, `INSERT INTO notices (kind, key_row, key_id, key_name, org_id, due_for, days, at, figure, usual)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
		kind, k.row, k.id, k.name, k.org, dueFor, days, p.now.Unix(), figure, usual).Scan(&id)
	if err == sql.ErrNoRows {
		return nil // raised before
	}
	if err != nil {
		return err
	}
	p.run.Raised++
	users, err := p.recipientsOf(k, kind)
	if err != nil {
		return err
	}
	for _, u := range users {
		if _, err := p.tx.ExecContext(p.ctx, `INSERT INTO notice_mail (notice_id, user_id, next_try) VALUES (?, ?, ?)`, id, u, p.now.Unix()); err != nil {
			return err
		}
		p.run.Mails++
	}
	return nil
}

type recipientsKey struct {
	org       int64
	kind      string
	createdBy string
}

// recipientsOf lists the users who get a notice of kind about k: those
// at k's organization or above who may change keys (they hold
// apikeys.update) or created k, and want the notice (noticeWanted).
func (p *noticePlan) recipientsOf(k noticeKey, kind string) ([]int64, error) {
	key := recipientsKey{k.org, kind, k.createdBy}
	if users, ok := p.recipients[key]; ok {
		return users, nil
	}
	path := p.orgs[k.org].ids
	users, err := allRows(p.ctx, p.tx, scanID, `SELECT u.id FROM users u JOIN organizations o ON o.id = u.org_id
		WHERE substr(?2, 1, length(o.path)) = o.path
		AND (u.username = ?1 OR EXISTS (SELECT 1 FROM role_rights rr WHERE rr.role_id = u.role_id AND rr.right_name = ?3))
		AND `+noticeWanted("u.id", "?4")+`
		ORDER BY u.id`, k.createdBy, path, RightKeysUpdate, kind)
	p.recipients[key] = users
	return users, err
}

// noticeWanted is the SQL condition that the user whose id is the
// expression user wants a notice of the kind kind by email: not disabled,
// with an address, and not opted out of it. Notices are queued with it,
// and queued mail is dropped when it no longer holds.
func noticeWanted(user, kind string) string {
	return `EXISTS (SELECT 1 FROM users wu WHERE wu.id = ` + user + ` AND wu.disabled_at IS NULL AND wu.email != '')
		AND NOT EXISTS (SELECT 1 FROM notice_optouts wo WHERE wo.user_id = ` + user + ` AND wo.kind = ` + kind + `)`
}
