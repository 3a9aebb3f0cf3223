package web

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
)

// recordedWriter passes an answer on and keeps a copy of it.
type recordedWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recordedWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordedWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// idempotent makes a management API POST safe to send again: with an
// Idempotency-Key, the same token, key and body within 24 hours get the
// first answer again (marked Idempotent-Replayed), a different body a
// CONFLICT. Answers of server errors are not kept, so that those can be
// retried.
func (h *handler) idempotent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := c.Request().Header.Get("Idempotency-Key")
		if key == "" {
			return next(c)
		}
		if len(key) > store.MaxIdempotencyKeyLen {
			return apiBodyError(c, "Idempotency-Key", "Use an Idempotency-Key of at most 255 characters.")
		}
		body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxAPIBody+1))
		if err != nil {
			return err
		}
		c.Request().Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(append([]byte(c.Request().Method+" "+c.Request().URL.Path+"\n"), body...))
		_, t := apiCaller(c)
		ctx := c.Request().Context()
		status, answer, found, err := h.store.PriorAnswer(ctx, t, key, sum[:])
		if err != nil {
			return apiFail(c, err)
		}
		if found {
			c.Response().Header().Set("Idempotent-Replayed", "true")
			return c.JSONBlob(status, answer)
		}
		rec := &recordedWriter{ResponseWriter: c.Response().Writer, status: http.StatusOK}
		c.Response().Writer = rec
		if err := next(c); err != nil {
			return err
		}
		if rec.status >= 500 {
			return nil
		}
		return h.store.KeepAnswer(ctx, t, key, sum[:], rec.status, rec.body.Bytes())
	}
}
