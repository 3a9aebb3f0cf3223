package jobs

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keydesk/keydesk/internal/metricstest"
	"github.com/keydesk/keydesk/metrics"
	"github.com/keydesk/keydesk/store"
)

// clock is a settable time for the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openStore(t *testing.T) (*store.Store, *clock) {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	st.Now = c.now
	return st, c
}

func state(t *testing.T, st *store.Store, name string) store.JobState {
	t.Helper()
	list, err := st.Jobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range list {
		if j.Name == name {
			return j
		}
	}
	t.Fatalf("no job %q in %v", name, list)
	return store.JobState{}
}

func TestARunIsRecordedAndNextDueAfterItsInterval(t *testing.T) {
	st, c := openStore(t)
	ctx := context.Background()
	runs := 0
	r := &Runner{Store: st, Owner: "a", Jobs: []Job{{Info: Info{Name: "count", Every: time.Hour}, Run: func(context.Context) (string, error) {
		runs++
		return "counted", nil
	}}}}
	start := c.now()
	if res, err := r.RunDue(ctx); err != nil || len(res) != 1 || res[0].Summary != "counted" {
		t.Fatalf("first run: %v, %v", res, err)
	}
	j := state(t, st, "count")
	if j.Runs != 1 || j.LastSummary != "counted" || !j.NextRun.Equal(start.Add(time.Hour)) || j.Owner != "" || !j.LastFinished.Equal(start) {
		t.Fatalf("recorded %+v", j)
	}
	c.add(59 * time.Minute)
	if res, _ := r.RunDue(ctx); len(res) != 0 || runs != 1 {
		t.Fatalf("ran again before it was due: %v", res)
	}
	c.add(time.Minute)
	if res, _ := r.RunDue(ctx); len(res) != 1 || runs != 2 {
		t.Fatalf("did not run when due: %v", res)
	}
}

func TestFailuresAndPanicsAreRecordedAndCounted(t *testing.T) {
	st, c := openStore(t)
	ctx := context.Background()
	fail := true
	r := &Runner{Store: st, Owner: "a", Jobs: []Job{
		{Info: Info{Name: "flaky", Every: time.Minute}, Run: func(context.Context) (string, error) {
			if fail {
				return "", errors.New("the receiver is down")
			}
			return "sent", nil
		}},
		{Info: Info{Name: "buggy", Every: time.Minute}, Run: func(context.Context) (string, error) { panic("nil map") }},
	}, Metrics: metrics.New(st)}
	for range 2 {
		res, err := r.RunDue(ctx)
		if err != nil || len(res) != 2 {
			t.Fatalf("a failing job stopped the others: %v, %v", res, err)
		}
		c.add(time.Minute)
	}
	if j := state(t, st, "flaky"); j.Failures != 2 || j.LastError != "the receiver is down" {
		t.Fatalf("flaky: %+v", j)
	}
	if j := state(t, st, "buggy"); j.Failures != 2 || j.LastError != "panic: nil map" || j.Owner != "" {
		t.Fatalf("a panic is not recorded as a failure, or keeps its claim: %+v", j)
	}
	fail = false
	r.RunDue(ctx)
	if j := state(t, st, "flaky"); j.Failures != 0 || j.LastError != "" || j.LastSummary != "sent" {
		t.Fatalf("a success does not clear the failures: %+v", j)
	}
	got, err := metricstest.Scrape(r.Metrics.Handler())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		job, outcome string
		want         float64
	}{{"flaky", "failed", 2}, {"flaky", "ok", 1}, {"buggy", "failed", 3}, {"buggy", "ok", -1}} {
		if v := got.Value("keydesk_job_runs_total", map[string]string{"job": c.job, "outcome": c.outcome}); v != c.want {
			t.Errorf("runs of %s, %s: %v, want %v", c.job, c.outcome, v, c.want)
		}
	}
}

func TestOnlyOneOwnerRunsAJobAndADeadOwnersClaimLapses(t *testing.T) {
	st, c := openStore(t)
	ctx := context.Background()
	if ok, err := st.ClaimJob(ctx, "rotate", "dead", DefaultLease); !ok || err != nil {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	var runs atomic.Int32
	job := Job{Info: Info{Name: "rotate", Every: time.Minute}, Run: func(context.Context) (string, error) {
		runs.Add(1)
		return "", nil
	}}
	alive := &Runner{Store: st, Owner: "alive", Jobs: []Job{job}}
	if res, _ := alive.RunDue(ctx); len(res) != 0 {
		t.Fatal("a job held by another owner ran")
	}
	c.add(DefaultLease - time.Second)
	if res, _ := alive.RunDue(ctx); len(res) != 0 {
		t.Fatal("a claim was taken before its lease ended")
	}
	c.add(time.Second)
	if res, _ := alive.RunDue(ctx); len(res) != 1 {
		t.Fatal("a lapsed claim was not taken")
	}
	if held, _ := st.ExtendJob(ctx, "rotate", "dead", DefaultLease); held {
		t.Fatal("the dead owner could extend a claim it lost")
	}
	// Two runners at once on a due job: exactly one runs it.
	c.add(time.Minute)
	var wg sync.WaitGroup
	for _, owner := range []string{"x", "y", "z"} {
		wg.Go(func() {
			r := &Runner{Store: st, Owner: owner, Jobs: []Job{job}}
			if _, err := r.RunDue(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := runs.Load(); got != 2 {
		t.Fatalf("the job ran %d times in all, want 2", got)
	}
}

func TestALongRunKeepsItsClaim(t *testing.T) {
	st, c := openStore(t)
	ctx := context.Background()
	started := make(chan struct{})
	release := make(chan struct{})
	r := &Runner{Store: st, Owner: "slow", Lease: 3 * time.Second, Jobs: []Job{{Info: Info{Name: "slow", Every: time.Minute}, Run: func(ctx context.Context) (string, error) {
		close(started)
		<-release
		return "done", ctx.Err()
	}}}}
	done := make(chan []Result)
	go func() {
		res, _ := r.RunDue(ctx)
		done <- res
	}()
	<-started
	// The store's clock moves twice past the first lease (stored times
	// are whole seconds); the runner extends it every second.
	for range 6 {
		time.Sleep(500 * time.Millisecond)
		c.add(time.Second)
	}
	if ok, _ := st.ClaimJob(ctx, "slow", "other", time.Minute); ok {
		t.Fatal("another owner took a job whose run was still extending its claim")
	}
	close(release)
	if res := <-done; len(res) != 1 || res[0].Err != nil {
		t.Fatalf("the long run: %v", res)
	}
}
