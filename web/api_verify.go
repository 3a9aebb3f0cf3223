package web

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
)

// verifyRequest is what a service sends. Key is a pointer so that a
// missing key can be told from an empty one.
type verifyRequest struct {
	Key        *string `json:"key"`
	Permission string  `json:"permission"`
	// Org, when given, is the public id of the organization the caller
	// serves: the key must be at it or above it.
	Org string `json:"org"`
}

type verifyValid struct {
	Valid       bool     `json:"valid"`
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
	ExpiresAt   *string  `json:"expires_at"`
	// GraceUntil is set when the secret is one the key had before a
	// rotation: the caller should move to the new one before then.
	GraceUntil *string       `json:"grace_until,omitempty"`
	RateLimit  rateLimitJSON `json:"ratelimit"`
	Org        orgJSON       `json:"org"`
}

// orgJSON names the key's organization in a valid answer.
type orgJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
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

// requestError is a refused API request: its status, stable code and a
// sentence for the caller.
type requestError struct {
	status        int
	code, message string
}

const verifyBodyHint = `The body must be one JSON object: {"key": "kd_…", "permission": "chat", "org": "…"}; permission and org may be left out.`

// parseVerifyRequest reads a verification request strictly: JSON by its
// Content-Type, one object and nothing after it, only the known field names
// spelled exactly, each at most once, and a key. It uses the JSON v2
// decoder, which matches names case-sensitively and refuses duplicates,
// invalid UTF-8 and trailing data by default.
func parseVerifyRequest(body []byte, contentType string) (verifyRequest, *requestError) {
	var req verifyRequest
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != echo.MIMEApplicationJSON {
		return req, &requestError{http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
			"Send the body as JSON, with Content-Type: application/json."}
	}
	bad := func(msg string) (verifyRequest, *requestError) {
		return verifyRequest{}, &requestError{http.StatusBadRequest, "BAD_REQUEST", msg}
	}
	if start := bytes.TrimLeft(body, " \t\r\n"); len(start) == 0 || start[0] != '{' {
		return bad(verifyBodyHint)
	}
	if err := json.Unmarshal(body, &req, json.RejectUnknownMembers(true)); err != nil {
		return bad(verifyBodyProblem(body, err))
	}
	if req.Key == nil {
		return bad(`The field "key" is missing.`)
	}
	return req, nil
}

// verifyBodyProblem says what is wrong with a body that json.Unmarshal
// refused. It runs only for refusals, so good requests are parsed once.
func verifyBodyProblem(body []byte, err error) string {
	var se *json.SemanticError
	var sy *jsontext.SyntacticError
	switch {
	case errors.As(err, &sy) && sy.Err == jsontext.ErrDuplicateName:
		return "The field " + fieldName(sy.JSONPointer) + " appears more than once."
	case errors.As(err, &se) && se.Err == json.ErrUnknownName:
		return "The field " + fieldName(se.JSONPointer) + ` is not known: send only "key", "permission" and "org", in lower case.`
	case errors.As(err, &se) && se.JSONPointer != "":
		return "The field " + fieldName(se.JSONPointer) + " must be a string."
	}
	// The object was whole, so what Unmarshal refused comes after it.
	if jsontext.NewDecoder(bytes.NewReader(body)).SkipValue() == nil {
		return "The body must hold one JSON object and nothing after it."
	}
	return verifyBodyHint
}

// fieldName quotes the field a JSON pointer ends at, for a message. A long
// name is not repeated: it may be a key sent in the wrong place.
func fieldName(p jsontext.Pointer) string {
	name := p.LastToken()
	if len(name) > 32 {
		return "with a long name"
	}
	return strconv.Quote(name)
}

// verifyKey answers a service asking whether a presented key is good. It
// needs no session and no CSRF token; when a verify token is configured,
// the caller must present it as a bearer token.
func (h *handler) verifyKey(c echo.Context) error {
	if h.cfg.VerifyToken != "" && !bearerMatches(c.Request().Header.Get("Authorization"), h.cfg.VerifyToken) {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="keydesk"`)
		return apiErr(c, http.StatusUnauthorized, "UNAUTHORIZED", "Send the verify token as a bearer token: Authorization: Bearer <token>.")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxVerifyBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return apiErr(c, http.StatusRequestEntityTooLarge, "TOO_LARGE", "The request is too large.")
		}
		return apiErr(c, http.StatusBadRequest, "BAD_REQUEST", "The body could not be read.")
	}
	req, rerr := parseVerifyRequest(body, c.Request().Header.Get(echo.HeaderContentType))
	if rerr != nil {
		return apiErr(c, rerr.status, rerr.code, rerr.message)
	}
	start := time.Now()
	v, err := h.store.VerifyKey(c.Request().Context(), *req.Key, req.Permission, req.Org)
	if err != nil {
		return err
	}
	h.cfg.Metrics.Verified(v.Code, time.Since(start))
	if v.Known {
		hd := c.Response().Header()
		hd.Set("RateLimit-Limit", strconv.Itoa(v.Limit))
		hd.Set("RateLimit-Remaining", strconv.Itoa(v.Remaining))
		hd.Set("RateLimit-Reset", strconv.Itoa(seconds(v.Reset)))
		if v.Code == store.CodeRateLimited {
			hd.Set("Retry-After", strconv.Itoa(max(seconds(v.RetryAfter), 1)))
		}
		if v.Stale > 0 {
			// The database is out of reach: the answer is what this
			// instance knew this many seconds ago.
			hd.Set("Keydesk-Stale", strconv.Itoa(max(seconds(v.Stale), 1)))
		}
	}
	if !v.Valid {
		return c.JSON(http.StatusOK, verifyInvalid{Code: v.Code})
	}
	res := verifyValid{Valid: true, ID: v.ID, Name: v.Name, Permissions: v.Permissions, Org: orgJSON{ID: v.OrgID, Name: v.OrgName},
		RateLimit: rateLimitJSON{Limit: v.Limit, Remaining: v.Remaining, Reset: seconds(v.Reset)}}
	if !v.ExpiresAt.IsZero() {
		t := v.ExpiresAt.Format(time.RFC3339)
		res.ExpiresAt = &t
	}
	if !v.GraceUntil.IsZero() {
		t := v.GraceUntil.Format(time.RFC3339)
		res.GraceUntil = &t
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
