// Command keydesk-bench measures the console against its performance
// budgets and prints one markdown table:
//
//	go run ./cmd/keydesk-bench [-sizes 100000,1000000] [-runs 21]
//
// For each size it seeds a temporary database with the store's seeding
// (1,000 organizations, a fixed random seed), serves the real handler on a
// loopback port of its own process, logs in over HTTP like a browser and
// times every view on the server: from the handler's start to its last
// byte, the median of -runs loads after -warmups, as a full page and as
// the htmx partial. It then downloads the CSV of every key, watching the
// process's resident memory (the bench process is the server), and last,
// bulk-revokes and deletes 100,000 keys while another user loads pages.
//
// -db measures existing databases instead (no seeding; the bulk actions
// work on a copy); -keep keeps the seeded databases for that. -postgres
// seeds and measures in schemas of a PostgreSQL database instead of
// files. The table is printed also when a step fails, with what was
// measured before.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/keydesk/keydesk/internal/pgtest"
	"github.com/keydesk/keydesk/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if atRestMain(ctx) {
		return
	}
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "keydesk-bench:", err)
		os.Exit(1)
	}
}

// config is what the flags choose.
type config struct {
	sizes    []int
	orgs     int
	runs     int // timed loads of each page
	warmups  int
	sortRuns int // timed loads of each page of the sweep over every order
	sorts    []store.KeySort
	dbs      []string // existing databases to measure, instead of seeding
	keep     bool     // keep the seeded databases
	bulk     int      // keys changed by each bulk action; 0 skips them
	postgres string   // a database to seed schemas in, instead of files
}

// errOverBudget is returned, after the table, when a figure missed its
// budget.
var errOverBudget = errors.New("over budget")

// run is the whole command, minus the process: the test calls it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "keydesk-bench-")
	if err != nil {
		return err
	}
	if !cfg.keep {
		defer os.RemoveAll(dir)
	}
	var results []result
	for _, db := range plan(cfg, dir) {
		if db.seed > 0 && cfg.postgres != "" {
			var drop func() error
			if db.path, drop, err = pgtest.NewSchema(ctx, cfg.postgres, "bench_"); err != nil {
				return fmt.Errorf("-postgres: %w", err)
			}
			if !cfg.keep {
				defer drop()
			}
		}
		if db.seed > 0 {
			fmt.Fprintf(stderr, "%s keys: seeding %s\n", thousands(db.seed), db.path)
			if db.seeded, err = seedDatabase(ctx, db.path, db.seed, cfg.orgs); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "%s keys: seeded in %s\n", thousands(db.seed), db.seeded.Round(100*time.Millisecond))
		}
		r, err := measure(ctx, cfg, dir, db, stderr)
		if len(r.figures) > 0 {
			if cfg.keep && db.seed > 0 {
				r.note("kept the database: measure it again with -db %s", db.path)
			}
			results = append(results, r)
		}
		if err != nil {
			// What was measured is worth seeing: it took a while.
			if len(results) > 0 {
				report(stdout, cfg, results)
			}
			return err
		}
	}
	over := report(stdout, cfg, results)
	if over > 0 {
		return fmt.Errorf("%d figures: %w", over, errOverBudget)
	}
	return nil
}

// plan lists the databases to measure: those given, or one to seed for
// each size.
func plan(cfg config, dir string) []database {
	var dbs []database
	for _, path := range cfg.dbs {
		dbs = append(dbs, database{path: path})
	}
	if len(dbs) > 0 {
		return dbs
	}
	for _, n := range cfg.sizes {
		dbs = append(dbs, database{path: tempPath(dir, n), seed: n, temporary: !cfg.keep})
	}
	return dbs
}

// report prints the table and the notes of each size below it, and
// returns how many figures missed their budget.
func report(w io.Writer, cfg config, results []result) (over int) {
	fmt.Fprintf(w, "Server time in ms (median of %d loads after %d warm-ups; orders: median of %d); MB = 10⁶ bytes.\n\n",
		cfg.runs, cfg.warmups, cfg.sortRuns)
	over = writeTable(w, results)
	for _, r := range results {
		fmt.Fprintf(w, "\nAt %s keys:\n", thousands(r.keys))
		for _, n := range r.notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
	return over
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("keydesk-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizes := fs.String("sizes", "100000,1000000", "numbers of keys to seed and measure, comma-separated (100k, 1M also do)")
	var cfg config
	fs.IntVar(&cfg.orgs, "orgs", 1000, "organizations to seed, the same for every size")
	fs.IntVar(&cfg.runs, "runs", 21, "timed loads of each page; the median is reported")
	fs.IntVar(&cfg.warmups, "warmups", 2, "loads of each page before the timed ones")
	fs.IntVar(&cfg.sortRuns, "sort-runs", 5, "timed loads of each page in the sweep over every order (after one warm-up, if -warmups is not 0)")
	orders := fs.String("sorts", "", "orders of the sweep, comma-separated (default: every one)")
	dbs := fs.String("db", "", "measure these databases (comma-separated) instead of seeding; they gain the bench's users and five keys, and the bulk actions work on a copy")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the seeded databases, to measure them again with -db")
	fs.IntVar(&cfg.bulk, "bulk", 100_000, "keys that each bulk action changes (seeded for it); 0 skips the bulk actions")
	fs.StringVar(&cfg.postgres, "postgres", "", "a postgres:// URL: seed and measure in schemas of that database (dropped after, unless -keep) instead of files")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := parseCount(s)
		if err != nil || n < 1 {
			return config{}, fmt.Errorf("-sizes: %q is not a number of keys", s)
		}
		cfg.sizes = append(cfg.sizes, n)
	}
	if *dbs != "" {
		cfg.dbs = strings.Split(*dbs, ",")
	}
	cfg.sorts = sorts
	if *orders != "" {
		cfg.sorts = nil
		for _, s := range strings.Split(*orders, ",") {
			if !store.ValidKeySort(store.KeySort(s)) {
				return config{}, fmt.Errorf("-sorts: the key list has no order %q", s)
			}
			cfg.sorts = append(cfg.sorts, store.KeySort(s))
		}
	}
	if cfg.runs < 1 || cfg.sortRuns < 1 || cfg.warmups < 0 || cfg.orgs < 0 || cfg.bulk < 0 {
		return config{}, errors.New("-runs and -sort-runs must be at least 1; -warmups, -orgs and -bulk at least 0")
	}
	return cfg, nil
}

// parseCount reads 2000, 100k or 1M.
func parseCount(s string) (int, error) {
	s = strings.TrimSpace(s)
	mult := 1
	switch {
	case strings.HasSuffix(s, "k"):
		s, mult = strings.TrimSuffix(s, "k"), 1_000
	case strings.HasSuffix(s, "M"):
		s, mult = strings.TrimSuffix(s, "M"), 1_000_000
	}
	n, err := strconv.Atoi(s)
	return n * mult, err
}

// since writes an elapsed time for the progress lines.
func since(t time.Time) string { return time.Since(t).Round(100 * time.Millisecond).String() }
