package web

import (
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// FuzzCSVCell writes a row through the export's own CSV stream and reads it
// back: no cell starts like a formula, and every cell comes back as one
// cell, with what was typed after the neutralising apostrophe.
func FuzzCSVCell(f *testing.F) {
	f.Fuzz(func(t *testing.T, cell, other string) {
		got := csvCell(cell)
		if got != "" && strings.ContainsRune("=+-@\t\r", rune(got[0])) {
			t.Fatalf("csvCell(%q) = %q starts like a formula", cell, got)
		}
		if got != cell && got != "'"+cell {
			t.Fatalf("csvCell(%q) = %q: want the cell, or the cell after an apostrophe", cell, got)
		}

		rec := httptest.NewRecorder()
		c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/keys/export.csv", nil), rec)
		s, err := newCSVStream(c, "keys", time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), []string{"a", "b", "c"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.write(cell, other, cell+other); err != nil {
			t.Fatal(err)
		}
		if err := s.close(); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
		if err != nil {
			t.Fatalf("the CSV for %q, %q does not read back: %v\n%q", cell, other, err, rec.Body.String())
		}
		if len(rows) != 2 || len(rows[1]) != 3 {
			t.Fatalf("the CSV for %q, %q reads back as %q", cell, other, rows)
		}
		for i, typed := range []string{cell, other, cell + other} {
			back := rows[1][i]
			if back != "" && strings.ContainsRune("=+-@\t\r", rune(back[0])) {
				t.Fatalf("cell %q reads back as %q, which starts like a formula", typed, back)
			}
			// A CRLF writer turns line breaks into CRLF, which read back
			// as LF; a lone CR is not kept.
			if want := strings.ReplaceAll(csvCell(typed), "\r", ""); back != want {
				t.Fatalf("cell %q reads back as %q, want %q", typed, back, want)
			}
		}
	})
}
