package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Channel is where migration 003's triggers announce changes.
const Channel = "keydesk"

// Change is one announcement: keys changed (Keys, by row id; Deleted when
// they are gone), or, with All, anything: organizations changed, or the
// feed was down and what changed meanwhile is not known.
type Change struct {
	Keys    []int64
	Deleted bool
	All     bool
}

// parseChange reads a payload of migration 003's triggers, less the
// schema it starts with.
func parseChange(payload string) (Change, error) {
	kind, id, _ := strings.Cut(payload, " ")
	switch kind {
	case "orgs":
		return Change{All: true}, nil
	case "key", "deleted":
		row, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return Change{}, fmt.Errorf("change feed: announcement %q: %w", payload, err)
		}
		return Change{Keys: []int64{row}, Deleted: kind == "deleted"}, nil
	}
	return Change{}, fmt.Errorf("change feed: unknown announcement %q", payload)
}

// feed is the connection that listens on Channel, kept open in a
// goroutine of its own and opened again when it fails.
type feed struct {
	up      atomic.Bool
	downAt  atomic.Int64  // Unix nanoseconds when it last went down
	pid     atomic.Uint32 // the server process that listens, for tests
	epoch   atomic.Int64  // moves on at every connection
	problem atomic.Pointer[string]
	cancel  context.CancelFunc
	done    sync.WaitGroup
}

// Listen calls apply for every change announced on the database, by this
// instance or another, once it has committed, in the order they committed.
// It returns once the feed has connected, or failed to; the listening
// goes on until Close. Whenever the feed is not connected, Trusted is
// false: what was cached may have changed unannounced. On every
// connection, apply is called with All first, before Trusted turns true.
func (db *DB) Listen(apply func(Change)) {
	ctx, cancel := context.WithCancel(context.Background())
	db.feed.cancel = cancel
	down := "change feed: not connected yet"
	db.feed.problem.Store(&down)
	db.feed.downAt.Store(time.Now().UnixNano())
	first := make(chan struct{})
	var once sync.Once
	tried := func() { once.Do(func() { close(first) }) }
	db.feed.done.Go(func() {
		defer tried()
		const firstWait = 50 * time.Millisecond
		wait := firstWait
		for ctx.Err() == nil {
			connectedAt := db.feed.epoch.Load()
			err := db.listen(ctx, apply, tried)
			if db.feed.epoch.Load() != connectedAt {
				wait = firstWait // it had connected: try again at once
			}
			if db.feed.up.Swap(false) {
				db.feed.downAt.Store(time.Now().UnixNano())
			}
			if ctx.Err() != nil {
				return
			}
			msg := "change feed: " + redactErr(err, db.dsn)
			db.feed.problem.Store(&msg)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, time.Second)
		}
	})
	<-first
}

// listenCheck is how long the feed waits for an announcement before it
// checks that the server still answers: a connection that broke without
// a word is found within about that time.
const listenCheck = 500 * time.Millisecond

// listen connects, listens and applies announcements until the connection
// fails or ctx ends.
func (db *DB) listen(ctx context.Context, apply func(Change), connected func()) error {
	defer connected()
	connectCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := pgx.Connect(connectCtx, db.dsn)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	// Other schemas of the database announce on the channel too.
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return err
	}
	db.feed.pid.Store(conn.PgConn().PID())
	// Whatever changed while nobody listened is unknown: forget it all.
	apply(Change{All: true})
	db.feed.epoch.Add(1)
	db.feed.up.Store(true)
	connected()
	for {
		waitCtx, cancel := context.WithTimeout(ctx, listenCheck)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			from, payload, _ := strings.Cut(n.Payload, " ")
			if from != schema {
				continue
			}
			ch, err := parseChange(payload)
			if err != nil {
				ch = Change{All: true} // a newer instance's: forget everything
			}
			apply(ch)
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case !pgconn.Timeout(err):
			return err
		}
		checkCtx, cancel := context.WithTimeout(ctx, listenCheck)
		err = conn.Ping(checkCtx)
		cancel()
		if err != nil {
			return err
		}
	}
}

// FeedPID is the server process of the change feed's connection, for
// tests that cut it.
func (db *DB) FeedPID() uint32 { return db.feed.pid.Load() }

// DownSince is zero while the change feed is connected, so that what was
// cached since it connected is current but for changes on their way;
// otherwise it is when the feed went down. It is zero too when nobody
// listens: then nothing cached depends on the feed.
func (db *DB) DownSince() time.Time {
	if db.feed.cancel == nil || db.feed.up.Load() {
		return time.Time{}
	}
	return time.Unix(0, db.feed.downAt.Load())
}

func (f *feed) version() (int64, error) {
	if f.cancel == nil {
		return 0, nil // not listening: nothing cached depends on it
	}
	if !f.up.Load() {
		return 0, errors.New(*f.problem.Load())
	}
	return f.epoch.Load(), nil
}

func (f *feed) stop() {
	if f.cancel != nil {
		f.cancel()
		f.done.Wait()
	}
}

// redactErr is err's text without the URL's password.
func redactErr(err error, dsn string) string {
	msg := err.Error()
	if u := redact(dsn); u != dsn {
		msg = strings.ReplaceAll(msg, dsn, u)
	}
	return msg
}
