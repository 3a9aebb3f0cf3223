// Command keydesk-loadtest measures the verification API over HTTP on
// loopback, against a trivial JSON endpoint of the same server in the same
// run, with hey (apt-get install hey) as the load generator:
//
//	go run ./cmd/keydesk-loadtest [-duration 10s] [-concurrency 50] [-postgres postgres://…]
//
// It reports both throughputs, their ratio, and the p99 latency of the
// verification at half its measured throughput. The targets: a ratio of at
// least 70% and a p99 under 5 ms. With -postgres, it also runs two
// instances on that database (in a schema of their own, dropped after),
// loads both at once with half the connections each, and compares what
// they answer together with the one SQLite instance: the target is 60%.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/keydesk/keydesk/internal/pgtest"
	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/web"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "keydesk-loadtest:", err)
		os.Exit(1)
	}
}

func run() error {
	duration := flag.Duration("duration", 10*time.Second, "length of each measurement")
	concurrency := flag.Int("concurrency", 50, "concurrent connections at full load")
	keys := flag.Int("keys", 10_000, "demo keys in the database besides the one verified")
	postgres := flag.String("postgres", "", "a postgres:// URL: also measure two instances on that database")
	flag.Parse()
	hey, err := exec.LookPath("hey")
	if err != nil {
		return errors.New("hey is not installed: apt-get install hey")
	}

	ctx := context.Background()
	dir, err := os.MkdirTemp("", "keydesk-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, filepath.Join(dir, "keydesk.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	secret, err := seed(ctx, st, *keys)
	if err != nil {
		return err
	}
	base, stop, err := serve(ctx, st)
	if err != nil {
		return err
	}
	defer stop()
	status := []string{base + "/api/v1/status"}
	verify := verifyArgs(base, secret)
	c := strconv.Itoa(*concurrency)
	d := duration.String()

	fmt.Printf("Warming up for %s…\n", *duration/5)
	if _, err := heyRun(hey, append([]string{"-z", (*duration / 5).String(), "-c", c}, verify...)); err != nil {
		return err
	}
	trivial, err := heyRun(hey, append([]string{"-z", d, "-c", c}, status...))
	if err != nil {
		return err
	}
	full, err := heyRun(hey, append([]string{"-z", d, "-c", c}, verify...))
	if err != nil {
		return err
	}
	// Half the measured throughput, spread over as many connections.
	workers := *concurrency
	perWorker := max(int(full.rps/2)/workers, 1)
	half, err := heyRun(hey, append([]string{"-z", d, "-c", strconv.Itoa(workers), "-q", strconv.Itoa(perWorker)}, verify...))
	if err != nil {
		return err
	}
	var shared heyResult
	if *postgres != "" {
		if shared, err = twoInstances(ctx, hey, *postgres, *keys, *duration, *concurrency); err != nil {
			return err
		}
	}
	ratio := full.rps / trivial.rps
	fmt.Printf("\n%-56s %10s %10s\n", "", "req/s", "p99")
	fmt.Printf("%-56s %10.0f %9.2fms\n", "GET /api/v1/status (trivial JSON), c="+c, trivial.rps, trivial.p99*1000)
	fmt.Printf("%-56s %10.0f %9.2fms\n", "POST /api/v1/keys/verify, c="+c, full.rps, full.p99*1000)
	fmt.Printf("%-56s %10.0f %9.2fms\n", fmt.Sprintf("POST /api/v1/keys/verify at %d req/s", perWorker*workers), half.rps, half.p99*1000)
	if *postgres != "" {
		fmt.Printf("%-56s %10.0f %9.2fms\n", fmt.Sprintf("the same, two instances on PostgreSQL, c=%d each", *concurrency/2), shared.rps, shared.p99*1000)
	}
	fmt.Printf("\nverification / trivial throughput: %.0f%% (target ≥ 70%%)\n", ratio*100)
	fmt.Printf("p99 at half load: %.2f ms (target < 5 ms)\n", half.p99*1000)
	missed := ratio < 0.7 || half.p99 >= 0.005
	if *postgres != "" {
		together := shared.rps / full.rps
		fmt.Printf("two instances on PostgreSQL / one on SQLite: %.0f%% (target ≥ 60%%)\n", together*100)
		missed = missed || together < 0.6
	}
	if missed {
		return errors.New("a target was missed")
	}
	return nil
}

// seed fills st with demo keys and makes the key that is verified, whose
// rate limit (a million a second) is not what is measured.
func seed(ctx context.Context, st *store.Store, keys int) (secret string, err error) {
	if err := st.SeedKeys(ctx, keys, mathrand.New(mathrand.NewPCG(1, 2))); err != nil {
		return "", err
	}
	_, secret, err = st.CreateKey(ctx, store.SystemActor("loadtest"), store.NewKey{Name: "loadtest", Permissions: []string{"chat"},
		Enabled: true, Capacity: store.MaxCapacity, Frequency: 1})
	return secret, err
}

// serve answers st's console and API on a loopback port until stop.
func serve(ctx context.Context, st *store.Store) (base string, stop func(), err error) {
	h, err := web.New(ctx, st, web.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Shutdown(ctx) }, nil
}

// verifyArgs are hey's arguments for verifying secret at base.
func verifyArgs(base, secret string) []string {
	body, _ := json.Marshal(map[string]string{"key": secret, "permission": "chat"})
	return []string{"-m", "POST", "-T", "application/json", "-d", string(body), base + "/api/v1/keys/verify"}
}

// twoInstances runs two instances on the PostgreSQL database at url, in
// a schema made for the run, and loads both with the same key at once,
// half the connections each: it returns their throughput together, and
// the worse p99.
func twoInstances(ctx context.Context, hey, url string, keys int, duration time.Duration, concurrency int) (heyResult, error) {
	schemaURL, drop, err := pgtest.NewSchema(ctx, url, "loadtest_")
	if err != nil {
		return heyResult{}, fmt.Errorf("-postgres: %w", err)
	}
	defer func() {
		if err := drop(); err != nil {
			fmt.Fprintln(os.Stderr, "keydesk-loadtest: drop the schema:", err)
		}
	}()
	var bases [2]string
	var secret string
	for i := range bases {
		st, err := store.Open(ctx, schemaURL)
		if err != nil {
			return heyResult{}, err
		}
		defer st.Close()
		if i == 0 {
			fmt.Printf("Seeding %d keys on PostgreSQL…\n", keys)
			if secret, err = seed(ctx, st, keys); err != nil {
				return heyResult{}, err
			}
		}
		base, stop, err := serve(ctx, st)
		if err != nil {
			return heyResult{}, err
		}
		defer stop()
		bases[i] = base
	}
	load := func(d time.Duration) (heyResult, error) {
		type answer struct {
			r   heyResult
			err error
		}
		answers := make(chan answer, len(bases))
		for _, base := range bases {
			go func() {
				r, err := heyRun(hey, append([]string{"-z", d.String(), "-c", strconv.Itoa(concurrency / 2)}, verifyArgs(base, secret)...))
				answers <- answer{r, err}
			}()
		}
		var sum heyResult
		var errs []error
		for range bases {
			a := <-answers
			errs = append(errs, a.err)
			sum.rps += a.r.rps
			sum.p99 = max(sum.p99, a.r.p99)
		}
		return sum, errors.Join(errs...)
	}
	fmt.Printf("Warming up two instances on PostgreSQL for %s…\n", duration/5)
	if _, err := load(duration / 5); err != nil {
		return heyResult{}, err
	}
	return load(duration)
}

type heyResult struct {
	rps float64
	p99 float64 // seconds
}

var (
	rpsLine = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	p99Line = regexp.MustCompile(`99%+ in ([0-9.]+) secs`)
	okLine  = regexp.MustCompile(`\[200\]\s+(\d+) responses`)
	anyCode = regexp.MustCompile(`\[(\d+)\]\s+\d+ responses`)
)

// heyRun runs hey and reads its summary; every answer must be a 200.
func heyRun(hey string, args []string) (heyResult, error) {
	out, err := exec.Command(hey, args...).CombinedOutput()
	if err != nil {
		return heyResult{}, fmt.Errorf("hey %v: %v\n%s", args, err, out)
	}
	for _, m := range anyCode.FindAllSubmatch(out, -1) {
		if string(m[1]) != "200" {
			return heyResult{}, fmt.Errorf("hey saw status %s:\n%s", m[1], out)
		}
	}
	rps, p99 := rpsLine.FindSubmatch(out), p99Line.FindSubmatch(out)
	if rps == nil || p99 == nil || okLine.Find(out) == nil {
		return heyResult{}, fmt.Errorf("cannot read hey's output:\n%s", out)
	}
	var r heyResult
	r.rps, _ = strconv.ParseFloat(string(rps[1]), 64)
	r.p99, _ = strconv.ParseFloat(string(p99[1]), 64)
	return r, nil
}
