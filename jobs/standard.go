package jobs

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/keydesk/keydesk/store"
)

// The jobs Keydesk runs.
var (
	Rotate = Info{Name: "rotate", Title: "Scheduled rotation", Every: time.Minute,
		About: "Rotates the keys whose schedule is due, with their organization's grace period."}
	EventsRetention = Info{Name: "events-retention", Title: "Audit log retention", Every: time.Hour,
		About: "Deletes events older than the retention set above, and records the deletion."}
)

// Catalog lists every job, in the order they run.
var Catalog = []Info{Rotate, EventsRetention}

// Standard is Keydesk's jobs over st, in Catalog's order.
func Standard(st *store.Store) []Job {
	return []Job{
		{Info: Rotate, Run: func(ctx context.Context) (string, error) {
			run, err := st.RotateDueKeys(ctx)
			return rotationSummary(run), firstError(err, run.Failed, "keys could not be rotated")
		}},
		{Info: EventsRetention, Run: func(ctx context.Context) (string, error) {
			n, err := st.PruneEvents(ctx)
			return counted(n, "event deleted", "events deleted"), err
		}},
	}
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
	switch n {
	case 0:
		return ""
	case 1:
		return "1 " + one
	}
	return store.Thousands(n) + " " + many
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
