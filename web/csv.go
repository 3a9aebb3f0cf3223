package web

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
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

// compressCSV gzips a download at the fastest level. At the default level
// a million keys spend more time compressing than being read, for a file
// only a fifth smaller.
func compressCSV() echo.MiddlewareFunc {
	return middleware.GzipWithConfig(middleware.GzipConfig{Level: gzip.BestSpeed})
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

// csvCell keeps a spreadsheet from running a cell as a formula: a value
// that starts like one gets a leading apostrophe.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
