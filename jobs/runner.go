// Package jobs runs Keydesk's background work: scheduled rotations,
// notices, mail, webhook deliveries and retention. Each job is claimed in
// the database before it runs, with an owner and a lease, so that
// processes sharing a database never run one job at once and a claim
// whose owner died lapses; what each run did is recorded beside the claim
// for the Jobs panel.
package jobs

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/keydesk/keydesk/metrics"
	"github.com/keydesk/keydesk/store"
)

// Info names a kind of background work and says what it does.
type Info struct {
	Name string
	// Title and About say what it does, on the Jobs panel.
	Title, About string
	// Every is how long after a run starts the next one is due.
	Every time.Duration
}

// Job is one kind of background work and how to do it.
type Job struct {
	Info
	// Run does the work due at the store's clock and says what it did in
	// a few words. Work it leaves undone for an error is done by a later
	// run: every job is safe to run again.
	Run func(ctx context.Context) (summary string, err error)
}

// DefaultLease is how long a claim lasts before it lapses, unless its
// owner extends it; a running job extends it every third of it.
const DefaultLease = 5 * time.Minute

// Runner runs the due jobs.
type Runner struct {
	Store *store.Store
	Jobs  []Job
	// Owner names this process in its claims; NewOwner makes one.
	Owner string
	Lease time.Duration
	Log   *slog.Logger
	// Metrics counts the runs; nil counts nothing.
	Metrics *metrics.Metrics
}

// NewOwner names a process in job claims: host, process id and a random
// part, so that a restarted process never takes its dead predecessor's
// claims for its own.
func NewOwner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:6])
}

// Result is what one job's run did.
type Result struct {
	Job     string
	Summary string
	Err     error
}

// RunDue runs every job that is due at the store's clock and that nobody
// else holds, one after the other, and returns what each did. A job's
// failure is recorded and does not stop the others; the error returned is
// the database's, when claiming or recording fails.
func (r *Runner) RunDue(ctx context.Context) ([]Result, error) {
	var out []Result
	for _, j := range r.Jobs {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		res, ran, err := r.run(ctx, j)
		if err != nil {
			return out, err
		}
		if ran {
			out = append(out, res)
		}
	}
	return out, nil
}

func (r *Runner) lease() time.Duration {
	if r.Lease > 0 {
		return r.Lease
	}
	return DefaultLease
}

// run claims j, runs it while extending the claim, and records the run.
func (r *Runner) run(ctx context.Context, j Job) (Result, bool, error) {
	start := r.Store.Now()
	claimed, err := r.Store.ClaimJob(ctx, j.Name, r.Owner, r.lease())
	if err != nil || !claimed {
		return Result{}, false, err
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { r.hold(runCtx, j.Name, stop) })
	summary, runErr := r.call(runCtx, j)
	stop()
	wg.Wait()
	r.Metrics.JobRan(j.Name, runErr)
	if runErr != nil && r.Log != nil {
		r.Log.Error("background job failed; it runs again when next due", "job", j.Name, "err", runErr)
	} else if r.Log != nil && summary != "" {
		r.Log.Info("background job ran", "job", j.Name, "did", summary)
	}
	// The record outlives a cancelled run: a shutdown mid-run still says
	// what happened.
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err = r.Store.FinishJob(rec, j.Name, r.Owner, summary, runErr, start.Add(j.Every))
	return Result{Job: j.Name, Summary: summary, Err: runErr}, true, err
}

// call runs j, turning a panic into its error so that one job's bug
// neither stops the others nor leaves its claim held.
func (r *Runner) call(ctx context.Context, j Job) (summary string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return j.Run(ctx)
}

// hold extends the claim on name every third of the lease until ctx ends;
// if the claim was lost (it lapsed and another process took the job), or
// could not be extended for a whole lease (so it may have lapsed), it
// cancels the run through lost.
func (r *Runner) hold(ctx context.Context, name string, lost context.CancelFunc) {
	tick := time.NewTicker(r.lease() / 3)
	defer tick.Stop()
	extended := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			held, err := r.Store.ExtendJob(ctx, name, r.Owner, r.lease())
			switch {
			case err == nil && held:
				extended = time.Now()
				continue
			case err != nil && time.Since(extended) < r.lease():
				continue // tried again at the next tick
			}
			if r.Log != nil {
				r.Log.Warn("lost the claim on a background job; stopping it", "job", name, "err", err)
			}
			lost()
			return
		}
	}
}

// Loop runs the due jobs at once and then every interval until ctx ends.
func (r *Runner) Loop(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if _, err := r.RunDue(ctx); err != nil && !errors.Is(err, context.Canceled) && r.Log != nil {
			r.Log.Error("run background jobs", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
