package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/keydesk/keydesk/metrics"
	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/store/postgres"
	"github.com/keydesk/keydesk/web"
)

const usage = `Usage:
  keydesk [serve] [--addr 127.0.0.1:8080] [--db keydesk.db]   run the console
  keydesk seed --db PATH --keys N [--orgs M]                  add N demo keys (over M organizations)
  keydesk backup --db PATH --out FILE                         copy the database while it serves
  keydesk copy --from DB --to DB                              move an installation to a new database (SQLite file or postgres:// URL)
  keydesk user add|passwd|unlock|list                         manage users (see keydesk user)
  keydesk org add|list                                        manage organizations (see keydesk org)
  keydesk jobs run --db PATH [--at TIME]                      run every due job once, as of TIME (default now)
  keydesk rekey --db PATH                                     move the kept secrets to a new master key
  keydesk token create --db PATH --user U --name N --rights R1,R2 --expires 30d
                                                              make an access token for the management API

Every flag has an environment variable: --addr is KEYDESK_ADDR, --db is KEYDESK_DB, and so on.
`

// env is how the program reads its environment; tests pass their own.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// run is the whole program, minus the process: tests call it with their own
// arguments, environment and streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") && cmd == "serve" {
		cmd = "help"
	}
	switch cmd {
	case "serve":
		return e.serve(ctx, args, nil)
	case "seed":
		return e.seed(ctx, args)
	case "backup":
		return e.backup(ctx, args)
	case "copy":
		return e.copyInstallation(ctx, args)
	case "user":
		return e.user(ctx, args)
	case "org":
		return e.org(ctx, args)
	case "jobs":
		return e.jobs(ctx, args)
	case "rekey":
		return e.rekey(ctx, args)
	case "token":
		return e.token(ctx, args)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n\n%s", cmd, usage)
}

// flags returns a flag set whose flags default to their KEYDESK_ variables.
func (e env) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("keydesk "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// envOr returns the environment variable's value, or def.
func (e env) envOr(name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}

// logFlag is --log-format: how the server's log lines are written.
func (e env) logFlag(fs *flag.FlagSet) *string {
	return fs.String("log-format", e.envOr("KEYDESK_LOG_FORMAT", "text"), "log lines as text (key=value) or json, one object a line (KEYDESK_LOG_FORMAT)")
}

// logger writes log lines to stderr in format, text or json.
func (e env) logger(format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(e.stderr, nil)), nil
	}
	return nil, fmt.Errorf("--log-format: %q is neither text nor json", format)
}

func (e env) dbFlag(fs *flag.FlagSet) *string {
	db := &dbValue{e.envOr("KEYDESK_DB", "keydesk.db")}
	fs.Var(db, "db", "the `database`: a SQLite file, or a postgres:// URL (KEYDESK_DB)")
	return &db.value
}

// dbValue is --db. Its text, which the help shows as the default, hides a
// URL's password.
type dbValue struct{ value string }

func (v *dbValue) Set(s string) error { v.value = s; return nil }

func (v *dbValue) String() string {
	if store.IsPostgres(v.value) {
		return postgres.Redact(v.value)
	}
	return v.value
}

// serveConfig is the server's configuration after flags and environment.
type serveConfig struct {
	addr, db        string
	tlsCert, tlsKey string
	idle, absolute  time.Duration
	staleFor        time.Duration
	metricsAddr     string
}

// serve runs the console until ctx ends. When ready is not nil it receives
// the address the server listens on (tests listen on port 0).
func (e env) serve(ctx context.Context, args []string, ready chan<- string) error {
	fs := e.flags("serve")
	var cfg serveConfig
	fs.StringVar(&cfg.addr, "addr", e.envOr("KEYDESK_ADDR", "127.0.0.1:8080"), "address to listen on (KEYDESK_ADDR)")
	db := e.dbFlag(fs)
	fs.StringVar(&cfg.tlsCert, "tls-cert", e.getenv("KEYDESK_TLS_CERT"), "TLS certificate file, to serve HTTPS (KEYDESK_TLS_CERT)")
	fs.StringVar(&cfg.tlsKey, "tls-key", e.getenv("KEYDESK_TLS_KEY"), "TLS key file (KEYDESK_TLS_KEY)")
	idle, err := time.ParseDuration(e.envOr("KEYDESK_IDLE_TIMEOUT", "30m"))
	if err != nil {
		return fmt.Errorf("KEYDESK_IDLE_TIMEOUT: %w", err)
	}
	absolute, err := time.ParseDuration(e.envOr("KEYDESK_ABSOLUTE_TIMEOUT", "12h"))
	if err != nil {
		return fmt.Errorf("KEYDESK_ABSOLUTE_TIMEOUT: %w", err)
	}
	fs.DurationVar(&cfg.idle, "idle-timeout", idle, "log out after this long without a request (KEYDESK_IDLE_TIMEOUT)")
	fs.DurationVar(&cfg.absolute, "absolute-timeout", absolute, "log out this long after login (KEYDESK_ABSOLUTE_TIMEOUT)")
	staleFor, err := time.ParseDuration(e.envOr("KEYDESK_STALE_FOR", store.DefaultStaleFor.String()))
	if err != nil {
		return fmt.Errorf("KEYDESK_STALE_FOR: %w", err)
	}
	fs.DurationVar(&cfg.staleFor, "stale-for", staleFor, "on PostgreSQL, how long cached keys keep verifying while the database is out of reach; 0 refuses at once (KEYDESK_STALE_FOR)")
	fs.StringVar(&cfg.metricsAddr, "metrics-addr", e.getenv("KEYDESK_METRICS_ADDR"), "address to answer Prometheus on, at /metrics; none when empty (KEYDESK_METRICS_ADDR)")
	logFormat := e.logFlag(fs)
	keyPath := e.masterKeyFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.db = *db
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	log, err := e.logger(*logFormat)
	if err != nil {
		return err
	}

	// One server per database file: two would each trust their own memory.
	lock, err := store.LockServer(cfg.db)
	if err != nil {
		return err
	}
	defer lock.Release()
	st, err := store.Open(ctx, cfg.db)
	if err != nil {
		return err
	}
	defer st.Close()
	st.StaleFor = cfg.staleFor
	if err := e.bootstrap(ctx, st); err != nil {
		return err
	}
	if err := e.useMasterKey(ctx, st, keyFile(*keyPath, cfg.db), log); err != nil {
		return err
	}
	tls := cfg.tlsCert != ""
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	listening := scheme + "://" + ln.Addr().String()
	deps, err := e.jobDeps(log, listening)
	if err != nil {
		ln.Close()
		return err
	}
	var metricsSrv *http.Server
	if cfg.metricsAddr != "" {
		deps.Metrics = metrics.New(st)
		if metricsSrv, err = serveMetrics(cfg.metricsAddr, deps.Metrics, log); err != nil {
			ln.Close()
			return err
		}
		defer metricsSrv.Close()
		fmt.Fprintf(e.stdout, "Metrics for Prometheus at http://%s/metrics\n", metricsSrv.Addr)
	}
	handler, err := web.New(ctx, st, web.Config{
		Logger: log, IdleTimeout: cfg.idle, AbsoluteTimeout: cfg.absolute, TLS: tls,
		// A secret: from the environment only, never a flag that ps would show.
		VerifyToken:          e.getenv("KEYDESK_VERIFY_TOKEN"),
		Jobs:                 deps,
		AllowPrivateWebhooks: e.allowPrivateWebhooks(),
		PublicURL:            e.getenv("KEYDESK_PUBLIC_URL"),
		APIBurst:             e.intEnv("KEYDESK_API_BURST"),
		APIPerMinute:         e.intEnv("KEYDESK_API_PER_MINUTE"),
		Metrics:              deps.Metrics,
	})
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// CSV downloads extend their own deadline as they stream.
		WriteTimeout: 60 * time.Second,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(e.stdout, "Keydesk is running at %s://%s (database %s)\n", scheme, ln.Addr(), st.Path())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	// Background jobs stop when serve returns for any reason, not only on a
	// signal: cancel runs before the wait (defers run last first).
	var background sync.WaitGroup
	defer background.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The background jobs (scheduled rotation, retention, …) run now and
	// then every minute, each when it is due.
	background.Go(func() { runner(st, log, deps).Loop(ctx, time.Minute) })
	// Key usage is counted in memory and written every few seconds; the
	// store writes what is left when it closes.
	background.Go(func() { flushUsage(ctx, st, log, 2*time.Second) })
	// Commands run beside the server write to the same file; what they
	// change reaches the verification cache within a fraction of a second.
	background.Go(func() { watchChanges(ctx, st, log, changePollInterval) })

	errc := make(chan error, 1)
	go func() {
		if tls {
			errc <- srv.ServeTLS(ln, cfg.tlsCert, cfg.tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Stop accepting, close idle connections and let the requests in
	// flight finish; then the deferred calls stop the background jobs and
	// close the store, which writes the last counted uses.
	log.Info("shutting down: finishing the requests in flight", "deadline", shutdownGrace)
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancelShutdown()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("requests still running at the deadline were cut off", "err", err)
		srv.Close()
	}
	log.Info("stopped")
	return nil
}

// serveMetrics answers Prometheus at addr's /metrics until closed; the
// server's Addr is the address it listens on.
func serveMetrics(addr string, m *metrics.Metrics, log *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Addr: ln.Addr().String(), Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("the metrics server stopped", "err", err)
		}
	}()
	return srv, nil
}

// shutdownGrace is how long requests in flight get to finish when the
// server is asked to stop.
const shutdownGrace = 10 * time.Second

// changePollInterval is how often the server looks for changes that other
// processes wrote to the database.
const changePollInterval = 250 * time.Millisecond

// every runs job every interval until ctx ends; at once first, too, when
// now is set. The background jobs of serve are all alike.
func every(ctx context.Context, interval time.Duration, now bool, job func()) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	if now {
		job()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			job()
		}
	}
}

// watchChanges drops what the store caches whenever another process has
// written to the database, every interval until ctx ends.
func watchChanges(ctx context.Context, st *store.Store, log *slog.Logger, interval time.Duration) {
	every(ctx, interval, false, func() {
		if changed, err := st.ReloadIfChanged(ctx); err != nil && ctx.Err() == nil {
			log.Error("look for changes from other processes", "err", err)
		} else if changed {
			log.Debug("another process changed the database; caches dropped")
		}
	})
}

// flushUsage writes counted key usage every interval until ctx ends.
func flushUsage(ctx context.Context, st *store.Store, log *slog.Logger, interval time.Duration) {
	every(ctx, interval, false, func() {
		if err := st.FlushUsage(ctx); err != nil && ctx.Err() == nil {
			log.Error("write key usage", "err", err)
		}
	})
}

// bootstrap creates the first administrator when there are no users: the
// password comes from KEYDESK_ADMIN_PASSWORD, or is generated and printed
// once.
func (e env) bootstrap(ctx context.Context, st *store.Store) error {
	given := e.getenv("KEYDESK_ADMIN_PASSWORD")
	password, created, err := st.CreateFirstAdmin(ctx, given)
	switch {
	case err != nil || !created:
		return err
	case given == "":
		fmt.Fprintf(e.stdout, "Created the first user: admin, password %s\nIt is shown only this once; change it after you log in.\n", password)
	default:
		fmt.Fprintln(e.stdout, "Created the first user: admin, with the password from KEYDESK_ADMIN_PASSWORD.")
	}
	return nil
}

func (e env) seed(ctx context.Context, args []string) error {
	fs := e.flags("seed")
	db := e.dbFlag(fs)
	n := fs.Int("keys", atoiOr(e.getenv("KEYDESK_SEED_KEYS"), 0), "how many keys to add (KEYDESK_SEED_KEYS); required")
	orgs := fs.Int("orgs", atoiOr(e.getenv("KEYDESK_SEED_ORGS"), 0), "how many organizations to add, in a tree up to four deep, the keys spread over them (KEYDESK_SEED_ORGS)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 {
		return errors.New("say how many demo keys to add with --keys N (at least 1)")
	}
	st, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var spread []store.Org
	if *orgs > 0 {
		if spread, err = st.SeedOrgs(ctx, *orgs, rng); err != nil {
			return err
		}
	}
	if err := st.SeedKeys(ctx, *n, rng, spread...); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Added %d demo keys and %d organizations to %s in %s.\n", *n, *orgs, st.Path(), time.Since(start).Round(time.Millisecond))
	return nil
}

func (e env) backup(ctx context.Context, args []string) error {
	fs := e.flags("backup")
	db := e.dbFlag(fs)
	out := fs.String("out", e.getenv("KEYDESK_BACKUP_OUT"), "file to write the copy to; must not exist (KEYDESK_BACKUP_OUT)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("--out is required")
	}
	st, err := store.OpenExisting(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Backup(ctx, *out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(e.stdout, "Copied %s to %s.\n", st.Path(), *out)
	return nil
}

// copyInstallation copies everything in one database to a new one, on
// either engine, with every server stopped, and shows how many rows each
// table holds in both.
func (e env) copyInstallation(ctx context.Context, args []string) error {
	fs := e.flags("copy")
	from := fs.String("from", "", "the database to copy: a SQLite file or a postgres:// URL")
	to := fs.String("to", "", "the new database: a SQLite file (created) or a postgres:// URL (its schema is made)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *to == "" || *from == *to {
		return errors.New("say where to copy from and to, two different databases: keydesk copy --from keydesk.db --to postgres://…")
	}
	src, err := store.OpenExisting(ctx, *from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := store.Open(ctx, *to)
	if err != nil {
		return err
	}
	defer dst.Close()
	start := time.Now()
	counts, err := src.CopyTo(ctx, dst)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, c := range counts {
		fmt.Fprintf(w, "%s\t%d\t\n", c.Table, c.Rows)
	}
	w.Flush()
	fmt.Fprintf(e.stdout, "Copied %s to %s in %s; every table holds as many rows in both.\n", src.Path(), dst.Path(), time.Since(start).Round(time.Millisecond))
	return nil
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

// intEnv reads a whole number from the environment; 0 (the default) when
// it is not set or not a number above 0.
func (e env) intEnv(name string) int {
	n, err := strconv.Atoi(e.getenv(name))
	if err != nil || n < 0 {
		return 0
	}
	return n
}
