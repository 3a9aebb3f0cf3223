// Command keydesk-loadtest measures the verification API over HTTP on
// loopback, against a trivial JSON endpoint of the same server in the same
// run, with hey (apt-get install hey) as the load generator:
//
//	go run ./cmd/keydesk-loadtest [-duration 10s] [-concurrency 50]
//
// It reports both throughputs, their ratio, and the p99 latency of the
// verification at half its measured throughput. The targets: a ratio of at
// least 70% and a p99 under 5 ms.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

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
	if err := st.SeedKeys(ctx, *keys, rand.New(rand.NewPCG(1, 2))); err != nil {
		return err
	}
	// A key whose rate limit (a million a second) is not what is measured.
	_, secret, err := st.CreateKey(ctx, store.SystemActor("loadtest"), store.NewKey{Name: "loadtest", Permissions: []string{"chat"},
		Enabled: true, Capacity: store.MaxCapacity, Frequency: 1})
	if err != nil {
		return err
	}
	h, err := web.New(ctx, st, web.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Shutdown(ctx)
	base := "http://" + ln.Addr().String()
	body, _ := json.Marshal(map[string]string{"key": secret, "permission": "chat"})

	status := []string{base + "/api/v1/status"}
	verify := []string{"-m", "POST", "-T", "application/json", "-d", string(body), base + "/api/v1/keys/verify"}
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
	ratio := full.rps / trivial.rps
	fmt.Printf("\n%-44s %10s %10s\n", "", "req/s", "p99")
	fmt.Printf("%-44s %10.0f %9.2fms\n", "GET /api/v1/status (trivial JSON), c="+c, trivial.rps, trivial.p99*1000)
	fmt.Printf("%-44s %10.0f %9.2fms\n", "POST /api/v1/keys/verify, c="+c, full.rps, full.p99*1000)
	fmt.Printf("%-44s %10.0f %9.2fms\n", fmt.Sprintf("POST /api/v1/keys/verify at %d req/s", perWorker*workers), half.rps, half.p99*1000)
	fmt.Printf("\nverification / trivial throughput: %.0f%% (target ≥ 70%%)\n", ratio*100)
	fmt.Printf("p99 at half load: %.2f ms (target < 5 ms)\n", half.p99*1000)
	if ratio < 0.7 || half.p99 >= 0.005 {
		return errors.New("a target was missed")
	}
	return nil
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
