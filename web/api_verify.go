package web

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
)

// verifyRequest is what a service sends. Key is a pointer so that a
// missing key can be told from an empty one.
type verifyRequest struct {
	Key        *string `json:"key"`
	Permission string  `json:"permission"`
}

type verifyValid struct {
	Valid       bool          `json:"valid"`
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	Permissions []string      `json:"permissions"`
	ExpiresAt   *string       `json:"expires_at"`
	RateLimit   rateLimitJSON `json:"ratelimit"`
}

type verifyInvalid struct {
	Valid bool   `json:"valid"`
	Code  string `json:"code"`
}

type rateLimitJSON struct {
	Limit     int `json:"limit"`
	Remaining int `json:"remaining"`
	Reset     int `json:"reset"` // seconds until the full limit is back
}

// maxVerifyBody bounds a verification request: a key and a permission.
const maxVerifyBody = 4 << 10

// verifyKey answers a service asking whether a presented key is good. It
// needs no session and no CSRF token; when a verify token is configured,
// the caller must present it as a bearer token.
func (h *handler) verifyKey(c echo.Context) error {
	if h.cfg.VerifyToken != "" && !bearerMatches(c.Request().Header.Get("Authorization"), h.cfg.VerifyToken) {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="keydesk"`)
		return apiErr(c, http.StatusUnauthorized, "UNAUTHORIZED", "Send the verify token as a bearer token: Authorization: Bearer <token>.")
	}
	var req verifyRequest
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, maxVerifyBody))
	if err := dec.Decode(&req); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return apiErr(c, http.StatusRequestEntityTooLarge, "TOO_LARGE", "The request is too large.")
		}
		return apiErr(c, http.StatusBadRequest, "BAD_REQUEST", `The body must be JSON: {"key": "kd_…", "permission": "chat"}.`)
	}
	if req.Key == nil {
		return apiErr(c, http.StatusBadRequest, "BAD_REQUEST", `The field "key" is missing.`)
	}
	v, err := h.store.VerifyKey(c.Request().Context(), *req.Key, req.Permission)
	if err != nil {
		return err
	}
	if v.Known {
		hd := c.Response().Header()
		hd.Set("RateLimit-Limit", strconv.Itoa(v.Limit))
		hd.Set("RateLimit-Remaining", strconv.Itoa(v.Remaining))
		hd.Set("RateLimit-Reset", strconv.Itoa(seconds(v.Reset)))
		if v.Code == store.CodeRateLimited {
			hd.Set("Retry-After", strconv.Itoa(max(seconds(v.RetryAfter), 1)))
		}
	}
	if !v.Valid {
		return c.JSON(http.StatusOK, verifyInvalid{Code: v.Code})
	}
	res := verifyValid{Valid: true, ID: v.ID, Name: v.Name, Permissions: v.Permissions,
		RateLimit: rateLimitJSON{Limit: v.Limit, Remaining: v.Remaining, Reset: seconds(v.Reset)}}
	if !v.ExpiresAt.IsZero() {
		t := v.ExpiresAt.Format(time.RFC3339)
		res.ExpiresAt = &t
	}
	return c.JSON(http.StatusOK, res)
}

// seconds rounds a duration up to whole seconds.
func seconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

// bearerMatches compares the bearer token of an Authorization header with
// the configured one, in constant time.
func bearerMatches(header, token string) bool {
	const prefix = "Bearer "
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(header[len(prefix):])), []byte(token)) == 1
}

// apiErr answers an API request with a JSON error and a stable code.
func apiErr(c echo.Context, status int, code, msg string) error {
	return c.JSON(status, apiError{Error: apiErrorBody{Code: code, Message: msg}})
}

// apiStatus is a trivial JSON answer, for load balancers and monitors.
func (h *handler) apiStatus(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
