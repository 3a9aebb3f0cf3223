package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/web"
)

// console is the real handler, built as serve builds it (without serve's
// background jobs), on a loopback port of this process.
type console struct {
	url   string
	times *serverTimes
	srv   *http.Server
}

func startConsole(ctx context.Context, st *store.Store) (*console, error) {
	// The management API's allowance per token is not what is measured.
	h, err := web.New(ctx, st, web.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), APIBurst: 1 << 30, APIPerMinute: 1 << 30})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	times := &serverTimes{next: h, slots: map[string]chan time.Duration{}}
	// No write timeout: a bulk action over many keys answers when it is done.
	srv := &http.Server{Handler: times, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return &console{url: "http://" + ln.Addr().String(), times: times, srv: srv}, nil
}

func (c *console) close() error { return c.srv.Close() }

// serverTimes wraps the console's handler to time each request on the
// server, from the handler's start to its return after the last byte. A
// request that carries an id in requestIDHeader keeps its time for the
// client that sent it.
type serverTimes struct {
	next  http.Handler
	mu    sync.Mutex
	slots map[string]chan time.Duration
}

const requestIDHeader = "X-Bench-Request"

func (t *serverTimes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	t.next.ServeHTTP(w, r)
	took := time.Since(start)
	if id := r.Header.Get(requestIDHeader); id != "" {
		t.slot(id) <- took
	}
}

// slot is where the time of request id goes; whichever of the server and
// the client comes first makes it.
func (t *serverTimes) slot(id string) chan time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	ch, ok := t.slots[id]
	if !ok {
		ch = make(chan time.Duration, 1)
		t.slots[id] = ch
	}
	return ch
}

// took waits for the server time of request id. A response with a length
// can reach the client a moment before its handler returns.
func (t *serverTimes) took(id string) (time.Duration, error) {
	select {
	case d := <-t.slot(id):
		t.mu.Lock()
		delete(t.slots, id)
		t.mu.Unlock()
		return d, nil
	case <-time.After(10 * time.Second):
		return 0, fmt.Errorf("the server did not finish request %s", id)
	}
}
