package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/keydesk/keydesk/jobs"
	"github.com/keydesk/keydesk/notify"
	"github.com/keydesk/keydesk/store"
)

// jobDeps is what this process's jobs send with: email when
// KEYDESK_SMTP_URL is set, and webhooks. consoleURL is where links in
// notices point: KEYDESK_PUBLIC_URL, else the one given, else localhost.
func (e env) jobDeps(log *slog.Logger, consoleURL string) (jobs.Deps, error) {
	consoleURL = e.publicURL(consoleURL)
	deps := jobs.Deps{Owner: jobs.NewOwner(), Poster: notify.NewPoster(e.allowPrivateWebhooks())}
	if smtp := e.getenv("KEYDESK_SMTP_URL"); smtp != "" {
		cfg, err := notify.ParseMailConfig(smtp, e.getenv("KEYDESK_MAIL_FROM"))
		if err != nil {
			return deps, err
		}
		deps.Mailer = &notify.Mailer{Config: cfg, ConsoleURL: consoleURL}
		if e.getenv("KEYDESK_PUBLIC_URL") == "" {
			log.Warn("KEYDESK_PUBLIC_URL is not set: links in notices point at " + consoleURL + ", which may not be how people reach the console")
		}
	} else {
		log.Info("email is not set up: notices wait until KEYDESK_SMTP_URL and KEYDESK_MAIL_FROM are set")
	}
	return deps, nil
}

// publicURL is where people reach the console, for links in notices and
// calendars: KEYDESK_PUBLIC_URL, else the one given, else localhost.
func (e env) publicURL(given string) string {
	if u := e.getenv("KEYDESK_PUBLIC_URL"); u != "" {
		return u
	}
	if given == "" {
		return "http://localhost:8080"
	}
	return given
}

// allowPrivateWebhooks is the operator's switch that lets webhooks reach
// loopback and private addresses.
func (e env) allowPrivateWebhooks() bool { return e.getenv(notify.AllowPrivateEnv) == "1" }

// runner makes the job runner of this process over st.
func runner(st *store.Store, log *slog.Logger, deps jobs.Deps) *jobs.Runner {
	return &jobs.Runner{Store: st, Jobs: jobs.Standard(st, deps), Owner: deps.Owner, Log: log, Metrics: deps.Metrics}
}

// parseAt reads --at: a time in RFC 3339, or a date (midnight UTC).
func parseAt(text string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, text); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, text); err == nil {
		return t, nil
	}
	return time.Time{}, errors.New("--at: give a time such as 2026-12-31T09:00:00Z, or a date such as 2026-12-31")
}

const jobsUsage = `Usage:
  keydesk jobs run --db PATH [--at TIME]   run every due job once, as of TIME (RFC 3339 or a date; default now)

The jobs: scheduled key rotation, notices and their email, webhooks'
deliveries, key retention and the audit log's retention. serve runs them by itself every minute; this is for operators who prefer cron, and for
tests. A job another process is running is left to it.
`

func (e env) jobs(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "run" {
		fmt.Fprint(e.stderr, jobsUsage)
		return errors.New(`the jobs command takes "run"`)
	}
	fs := e.flags("jobs run")
	db := e.dbFlag(fs)
	keyPath := e.masterKeyFlag(fs)
	logFormat := e.logFlag(fs)
	at := fs.String("at", "", "run as of this time, RFC 3339 (default now)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	log, err := e.logger(*logFormat)
	if err != nil {
		return err
	}
	st, err := store.OpenExisting(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	if *at != "" {
		t, err := parseAt(*at)
		if err != nil {
			return err
		}
		st.Now = func() time.Time { return t }
		if ahead := time.Until(t); ahead > time.Minute {
			fmt.Fprintf(e.stderr, "Running as of %s (%s): notices due by then are raised and sent now, and keys past their organization's retention by then are deleted now.\n",
				t.Format(time.RFC3339), store.Relative(t, time.Now()))
		}
	}
	if err := e.useMasterKey(ctx, st, keyFile(*keyPath, *db), log); err != nil {
		return err
	}
	deps, err := e.jobDeps(log, "")
	if err != nil {
		return err
	}
	results, err := runner(st, log, deps).RunDue(ctx)
	if err != nil {
		return err
	}
	if *at != "" {
		if err := st.DueByNow(ctx, time.Now()); err != nil {
			return err
		}
	}
	failed := 0
	for _, r := range results {
		switch {
		case r.Err != nil:
			failed++
			fmt.Fprintf(e.stdout, "%s: failed: %v\n", r.Job, r.Err)
		case r.Summary == "":
			fmt.Fprintf(e.stdout, "%s: nothing to do\n", r.Job)
		default:
			fmt.Fprintf(e.stdout, "%s: %s\n", r.Job, r.Summary)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d jobs failed; see above", failed, len(results))
	}
	return nil
}
