package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/keydesk/keydesk/metrics"
	"github.com/keydesk/keydesk/notify"
	"github.com/keydesk/keydesk/store"
)

// The jobs Keydesk runs.
var (
	Rotate = Info{Name: "rotate", Title: "Scheduled rotation", Every: time.Minute,
		About: "Rotates the keys whose schedule is due, with their organization's grace period."}
	Notices = Info{Name: store.NoticesJob, Title: "Notices", Every: time.Minute,
		About: "Finds the keys that expire, are due for rotation or whose previous secret's grace ends soon, and who should hear of it."}
	UsageWindow = Info{Name: "usage-window", Title: "Last 24 hours' use", Every: time.Minute,
		About: "Keeps each key's count of the last 24 hours, which the key list shows and sorts by, as hours leave it."}
	Spikes = Info{Name: "spikes", Title: "Usage spikes", Every: time.Minute,
		About: "Raises a notice and an event when a key is verified far more than usual in an hour, or an organization's refusals jump."}
	Mail = Info{Name: "mail", Title: "Email", Every: time.Minute,
		About: "Sends the notices by email, one message per person at a time, and tries again for a day when the server refuses."}
	Webhooks = Info{Name: "webhooks", Title: "Webhooks", Every: time.Minute,
		About: "Sends the events and notices each webhook asks for, signed, and tries again for a day when the receiver fails."}
	KeyRetention = Info{Name: "key-retention", Title: "Key retention", Every: time.Hour,
		About: "Deletes the keys of organizations whose policy says to, the set number of days after they expired or were revoked."}
	UsageRetention = Info{Name: "usage-retention", Title: "Usage retention", Every: time.Hour,
		About: "Deletes verification counts older than 14 days by the hour and 400 days by the day, and those of deleted keys."}
	EventsRetention = Info{Name: "events-retention", Title: "Audit log retention", Every: time.Hour,
		About: "Deletes events older than the retention set above, and records the deletion."}
)

// Catalog lists every job, in the order they run.
var Catalog = []Info{Rotate, Notices, UsageWindow, Spikes, Mail, Webhooks, KeyRetention, UsageRetention, EventsRetention}

// Deps are what the jobs need beside the store.
type Deps struct {
	// Owner names the process in the claims of what it sends; the
	// runner's owner.
	Owner string
	// Mailer sends email; nil when none is set up.
	Mailer *notify.Mailer
	// Poster sends webhooks' deliveries.
	Poster *notify.Poster
	// Metrics counts job runs and deliveries; nil counts nothing.
	Metrics *metrics.Metrics
}

// Standard is Keydesk's jobs over st, in Catalog's order.
func Standard(st *store.Store, d Deps) []Job {
	return []Job{
		{Info: Rotate, Run: func(ctx context.Context) (string, error) {
			run, err := st.RotateDueKeys(ctx)
			return rotationSummary(run), firstError(err, run.Failed, "keys could not be rotated")
		}},
		{Info: Notices, Run: func(ctx context.Context) (string, error) {
			run, err := st.PlanNotices(ctx)
			return summary(counted(run.Raised, "notice raised", "notices raised"), counted(run.Mails, "email queued", "emails queued")), err
		}},
		{Info: UsageWindow, Run: func(ctx context.Context) (string, error) {
			n, err := st.SlideUsageWindow(ctx)
			return counted(n, "key's count moved on", "keys' counts moved on"), err
		}},
		{Info: Spikes, Run: func(ctx context.Context) (string, error) {
			run, err := st.DetectSpikes(ctx)
			return summary(counted(run.Keys, "key spiked", "keys spiked"), counted(run.Orgs, "organization's refusals spiked", "organizations' refusals spiked")), err
		}},
		{Info: Mail, Run: func(ctx context.Context) (string, error) { return sendMail(ctx, st, d) }},
		{Info: Webhooks, Run: func(ctx context.Context) (string, error) { return sendWebhooks(ctx, st, d) }},
		{Info: KeyRetention, Run: func(ctx context.Context) (string, error) {
			run, err := st.PurgeRetired(ctx)
			return counted(run.Deleted, "key deleted", "keys deleted"), err
		}},
		{Info: UsageRetention, Run: func(ctx context.Context) (string, error) {
			n, err := st.PruneUsage(ctx)
			return counted(n, "usage row deleted", "usage rows deleted"), err
		}},
		{Info: EventsRetention, Run: func(ctx context.Context) (string, error) {
			n, err := st.PruneEvents(ctx)
			return counted(n, "event deleted", "events deleted"), err
		}},
	}
}

// mailBatch is how many people's notices one claim takes: sent within the
// claim's lease even when each email takes the mail library's whole
// timeout.
const mailBatch = 8

// sendBudget is how long one run of the mail or webhooks job goes on
// claiming more to send, so that a slow server or receiver cannot hold up
// the jobs that run after it: what is left waits for the next run.
const sendBudget = DefaultLease / 2

// sendMail sends the notices waiting to be mailed, one email per person.
func sendMail(ctx context.Context, st *store.Store, d Deps) (string, error) {
	if d.Mailer == nil {
		waiting, _, err := st.MailQueue(ctx)
		if waiting == 0 || err != nil {
			return "", err
		}
		return counted(waiting, "notice waits", "notices wait") + " for email to be set up (KEYDESK_SMTP_URL)", nil
	}
	sent, failed := 0, 0
	var firstErr error
	for start := time.Now(); time.Since(start) < sendBudget; {
		batches, err := st.ClaimMail(ctx, d.Owner, DefaultLease, mailBatch)
		if err != nil || len(batches) == 0 {
			return mailSummary(sent, failed), errors.Join(err, firstErr)
		}
		for _, b := range batches {
			if err := d.Mailer.Send(ctx, b, st.Now()); err != nil {
				failed++
				if firstErr == nil {
					firstErr = fmt.Errorf("email to %s: %w", b.Username, err)
				}
				if err := st.RecordMailFailure(ctx, d.Owner, b, err); err != nil {
					return mailSummary(sent, failed), err
				}
				continue
			}
			sent++
			if err := st.RecordMailSent(ctx, d.Owner, b); err != nil {
				return mailSummary(sent, failed), err
			}
		}
	}
	return mailSummary(sent, failed), firstErr
}

func mailSummary(sent, failed int) string {
	return summary(counted(sent, "email sent", "emails sent"), counted(failed, "email to try again", "emails to try again"))
}

// summary joins the parts of a run's summary that say something.
func summary(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(p string) bool { return p == "" }), ", ")
}

func rotationSummary(run store.ScheduleRun) string {
	s := counted(run.Rotated, "key rotated", "keys rotated")
	if len(run.Failed) > 0 {
		s += fmt.Sprintf(", %d left for the next run", len(run.Failed))
	}
	return s
}

// counted says n things, "" for none.
func counted(n int, one, many string) string {
	if n == 0 {
		return ""
	}
	return store.Plural(n, one, many)
}

// firstError is err, or else an error that names how many items failed
// and the first of them, by id.
func firstError(err error, failed map[string]error, what string) error {
	if err != nil || len(failed) == 0 {
		return err
	}
	ids := make([]string, 0, len(failed))
	for id := range failed {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return fmt.Errorf("%d %s, first %s: %w", len(failed), what, ids[0], failed[ids[0]])
}
