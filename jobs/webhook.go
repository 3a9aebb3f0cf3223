package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keydesk/keydesk/store"
)

// hookBatch is how many deliveries one claim takes: sent within the
// claim's lease even when each receiver takes the Poster's whole timeout.
const hookBatch = 8

// sendWebhooks queues the deliveries of the events and notices since the
// last run, sends those due (unless there is no Poster: they wait), and
// prunes the old ones from the log.
func sendWebhooks(ctx context.Context, st *store.Store, d Deps) (string, error) {
	queued, err := st.QueueWebhooks(ctx)
	if err != nil || d.Poster == nil {
		return webhookSummary(queued, 0, 0), err
	}
	sent, failed := 0, 0
	var firstErr error
	for start := time.Now(); ; {
		if time.Since(start) > sendBudget {
			return webhookSummary(queued, sent, failed), firstErr
		}
		batch, err := st.ClaimDeliveries(ctx, d.Owner, DefaultLease, hookBatch, "")
		if err != nil || len(batch) == 0 {
			if err == nil {
				_, err = st.PruneDeliveries(ctx)
			}
			return webhookSummary(queued, sent, failed), errors.Join(err, firstErr)
		}
		for _, del := range batch {
			tried, err := Deliver(ctx, st, d, del)
			if err != nil {
				return webhookSummary(queued, sent, failed), err
			}
			if tried.State == store.DeliveryDelivered {
				sent++
				continue
			}
			failed++
			if firstErr == nil {
				firstErr = fmt.Errorf("delivery to %s: %s", store.WebhookURLShown(del.URL), tried.LastError)
			}
		}
	}
}

// Deliver sends one claimed delivery and records how it went. It is
// signed at the wall clock's time, which receivers check theirs against,
// whatever time the store runs as of.
func Deliver(ctx context.Context, st *store.Store, d Deps, del store.Delivery) (store.Delivery, error) {
	status, why := d.Poster.Post(ctx, del, time.Now())
	tried, err := st.RecordDeliveryTry(ctx, d.Owner, del, status, why)
	if err == nil {
		d.Metrics.Delivered(tried.State)
	}
	return tried, err
}

// DeliverNow sends the delivery with this message id at once, for the
// console's "Send test event" and "Send again"; it reports how it went.
// A delivery another process holds is left to it.
func DeliverNow(ctx context.Context, st *store.Store, d Deps, msgID string) (store.Delivery, bool, error) {
	batch, err := st.ClaimDeliveries(ctx, d.Owner, DefaultLease, 1, msgID)
	if err != nil || len(batch) == 0 {
		return store.Delivery{}, false, err
	}
	del, err := Deliver(ctx, st, d, batch[0])
	return del, err == nil, err
}

func webhookSummary(queued, sent, failed int) string {
	return summary(counted(queued, "delivery queued", "deliveries queued"), counted(sent, "delivered", "delivered"),
		counted(failed, "delivery to try again", "deliveries to try again"))
}
