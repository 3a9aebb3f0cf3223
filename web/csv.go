package web

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"time"

	"github.com/klauspost/compress/gzhttp"

	"github.com/klauspost/compress/gzip"
	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/views/form"
)

// csvStream writes a CSV download: RFC 4180, a header row, and rows sent
// in batches so that a large export streams in constant memory.
type csvStream struct {
	res  *echo.Response
	rc   *http.ResponseController
	w    *csv.Writer
	rows int
}

// csvWriteWindow is how long a download may take to send one batch of
// rows. The server's write timeout would cut a large export short, so each
// batch extends the deadline instead: a slow download goes on, a stalled
// one ends.
const csvWriteWindow = 30 * time.Second

// compressCSV compresses a download at the fastest level, with
// klauspost/compress: at a million keys, the standard library's gzip
// (even at its fastest) took as long as reading the keys. A browser that
// takes zstd gets zstd, faster still.
//
// The handler writes through the compressor while it runs; the response
// gets its own writer back before an error is answered, since the
// compressor is closed (and pooled) by then.
func compressCSV() echo.MiddlewareFunc {
	wrap, err := gzhttp.NewWrapper(gzhttp.CompressionLevel(gzip.BestSpeed))
	if err != nil {
		panic(err) // the options are constants
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			res := c.Response()
			own := res.Writer
			var err error
			wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				res.Writer = w
				c.SetRequest(r)
				err = next(c)
			})).ServeHTTP(own, c.Request())
			res.Writer = own
			return err
		}
	}
}

// csvBufferSize is how much of a CSV download is written at a time.
const csvBufferSize = 64 << 10

func newCSVStream(c echo.Context, name string, now time.Time, header []string) (*csvStream, error) {
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="keydesk-`+name+`-`+now.Format("2006-01-02")+`.csv"`)
	res.Header().Set("Cache-Control", "no-store")
	// csv.Writer writes through this buffer: its own 4 KB one would make
	// a write to the connection (and a chunk header) every few rows.
	w := csv.NewWriter(bufio.NewWriterSize(res, csvBufferSize))
	w.UseCRLF = true
	s := &csvStream{res: res, rc: http.NewResponseController(res), w: w}
	s.extendDeadline()
	return s, w.Write(header)
}

// write adds a row, neutralising every cell that a spreadsheet would run
// as a formula.
func (s *csvStream) write(cells ...string) error {
	for i, cell := range cells {
		cells[i] = csvCell(cell)
	}
	if err := s.w.Write(cells); err != nil {
		return err
	}
	if s.rows++; s.rows%1000 == 0 {
		s.w.Flush()
		s.res.Flush()
		s.extendDeadline()
	}
	return s.w.Error()
}

// extendDeadline gives the next batch csvWriteWindow to go out. A writer
// without deadlines (a test's recorder) is fine as it is.
func (s *csvStream) extendDeadline() {
	_ = s.rc.SetWriteDeadline(time.Now().Add(csvWriteWindow))
}

func (s *csvStream) close() error {
	s.w.Flush()
	return s.w.Error()
}

// csvCell keeps a spreadsheet from running a cell as a formula.
func csvCell(s string) string { return form.CSVCell(s) }

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// readAheadBatch is how many rows readAhead hands over at a time.
const readAheadBatch = 256

// readAhead runs each (an export's reading from the store, which passes
// every row to its callback) on a goroutine of its own and hands the rows
// to fn in batches, so that the database is read on one core while the
// download is written and compressed on another. At most a few batches
// wait, so memory stays flat; when fn fails, the reading stops. It
// returns what each returns, or fn's error.
func readAhead[T any](ctx context.Context, each func(context.Context, func(T) error) (int, error), fn func(T) error) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []T, 2)
	var (
		n       int
		readErr error
	)
	send := func(batch []T) error {
		select {
		case batches <- batch:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	go func() {
		defer close(batches)
		// The request's goroutine recovers its own panics, not this one's.
		defer func() {
			if p := recover(); p != nil {
				readErr = fmt.Errorf("reading the export: %v", p)
			}
		}()
		batch := make([]T, 0, readAheadBatch)
		n, readErr = each(ctx, func(v T) error {
			if batch = append(batch, v); len(batch) < readAheadBatch {
				return nil
			}
			err := send(batch)
			batch = make([]T, 0, readAheadBatch)
			return err
		})
		if readErr == nil && len(batch) > 0 {
			readErr = send(batch)
		}
	}()
	for batch := range batches {
		for _, v := range batch {
			if err := fn(v); err != nil {
				cancel()
				for range batches {
					// Wait for the reader to stop.
				}
				return 0, err
			}
		}
	}
	return n, readErr
}
