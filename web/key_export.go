package web

import (
	"encoding/csv"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
)

// csvHeader names the export's columns.
var csvHeader = []string{"id", "name", "permissions", "status", "enabled", "expires_at", "created_at", "created_by", "last_used_at", "key"}

// exportKeys streams the keys that the list's query selects, every page of
// them, in the list's order, one row at a time.
func (h *handler) exportKeys(c echo.Context) error {
	params, _, err := h.keyListParams(c)
	if err != nil {
		return err
	}
	now := h.cfg.Now().UTC()
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="keydesk-keys-`+now.Format("2006-01-02")+`.csv"`)
	res.Header().Set("Cache-Control", "no-store")
	w := csv.NewWriter(res)
	w.UseCRLF = true // RFC 4180
	if err := w.Write(csvHeader); err != nil {
		return err
	}
	rows := 0
	n, err := h.store.EachKey(c.Request().Context(), params.Filter(), params.Sort, params.Desc, func(k store.Key) error {
		err := w.Write([]string{
			k.ID,
			csvCell(k.Name),
			strings.Join(k.Permissions, ";"),
			k.Status(now).String(),
			strconv.FormatBool(k.Enabled),
			csvTime(k.ExpiresAt),
			csvTime(k.CreatedAt),
			csvCell(k.CreatedBy),
			csvTime(k.LastUsedAt),
			k.Hint,
		})
		if err != nil {
			return err
		}
		// Send a batch now and then so that a large export streams.
		if rows++; rows%1000 == 0 {
			w.Flush()
			res.Flush()
		}
		return w.Error()
	})
	if err != nil {
		return err
	}
	w.Flush()
	h.log.Info("keys exported", "user", h.actor(c).Username, "rows", n)
	return w.Error()
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
