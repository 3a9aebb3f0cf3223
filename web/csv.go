package web

import (
	"encoding/csv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// csvStream writes a CSV download: RFC 4180, a header row, and rows sent
// in batches so that a large export streams in constant memory.
type csvStream struct {
	res  *echo.Response
	w    *csv.Writer
	rows int
}

func newCSVStream(c echo.Context, name string, now time.Time, header []string) (*csvStream, error) {
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="keydesk-`+name+`-`+now.Format("2006-01-02")+`.csv"`)
	res.Header().Set("Cache-Control", "no-store")
	w := csv.NewWriter(res)
	w.UseCRLF = true
	return &csvStream{res: res, w: w}, w.Write(header)
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
	}
	return s.w.Error()
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
