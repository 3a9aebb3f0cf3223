package web

import (
	"context"
	"errors"
	"testing"
)

// TestReadAheadPassesEveryRowInOrder: the rows reach fn in the order
// read, across batches, and the count is the reader's.
func TestReadAheadPassesEveryRowInOrder(t *testing.T) {
	const rows = 3*readAheadBatch + 5
	each := func(ctx context.Context, fn func(int) error) (int, error) {
		for i := range rows {
			if err := fn(i); err != nil {
				return i, err
			}
		}
		return rows, nil
	}
	next := 0
	n, err := readAhead(context.Background(), each, func(v int) error {
		if v != next {
			t.Fatalf("row %d came as row %d", v, next)
		}
		next++
		return nil
	})
	if err != nil || n != rows || next != rows {
		t.Fatalf("%d rows counted, %d passed, %v", n, next, err)
	}
}

// TestReadAheadStopsTheReader: when writing fails, the reader is told to
// stop, and readAhead returns only once it has, with the writer's error;
// a reader's error comes back too.
func TestReadAheadStopsTheReader(t *testing.T) {
	gone := errors.New("the client went away")
	stopped := false
	each := func(ctx context.Context, fn func(int) error) (int, error) {
		for i := 0; ; i++ {
			if err := fn(i); err != nil {
				stopped = ctx.Err() != nil
				return i, err
			}
		}
	}
	_, err := readAhead(context.Background(), each, func(v int) error {
		if v == readAheadBatch+1 {
			return gone
		}
		return nil
	})
	if !errors.Is(err, gone) || !stopped {
		t.Fatalf("error %v; reader stopped by its context: %v", err, stopped)
	}

	broken := errors.New("disk I/O error")
	_, err = readAhead(context.Background(), func(ctx context.Context, fn func(int) error) (int, error) {
		fn(1)
		return 1, broken
	}, func(int) error { return nil })
	if !errors.Is(err, broken) {
		t.Fatalf("a reader's error came back as %v", err)
	}
}

// TestReadAheadRecoversTheReader: a panic while reading ends the export
// with an error, not the server, which recovers only the request's own
// goroutine.
func TestReadAheadRecoversTheReader(t *testing.T) {
	_, err := readAhead(context.Background(), func(ctx context.Context, fn func(int) error) (int, error) {
		var m map[string]int
		m["boom"]++ // a nil map: panics
		return 0, nil
	}, func(int) error { return nil })
	if err == nil {
		t.Fatal("a reader that panicked gave no error")
	}
}
