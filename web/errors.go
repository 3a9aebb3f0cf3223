package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views"
)

// statusOf maps an error to its HTTP status and the message for the user.
// Errors that are not the user's to fix get a plain message; their cause is
// logged.
func statusOf(err error) (int, string) {
	var se *store.Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &se):
		switch se.Code {
		case store.ENOTFOUND:
			return http.StatusNotFound, se.Message
		case store.ECONFLICT:
			return http.StatusConflict, se.Message
		case store.EFORBIDDEN:
			return http.StatusForbidden, se.Message
		case store.ELIMITED:
			return http.StatusTooManyRequests, se.Message
		case store.EUNAUTHORIZED:
			return http.StatusUnauthorized, se.Message
		}
		return http.StatusUnprocessableEntity, se.Message
	case errors.As(err, &he):
		msg, ok := he.Message.(string)
		if !ok || he.Code == http.StatusNotFound {
			msg = http.StatusText(he.Code)
		}
		if he.Code == http.StatusNotFound {
			msg = "There is no page at this address."
		}
		if he.Code == http.StatusRequestEntityTooLarge {
			msg = "The request is too large."
		}
		return he.Code, msg
	}
	return http.StatusInternalServerError, "Something went wrong on our side. It has been logged; please try again."
}

// handleError is the one place errors become responses: JSON under /api/,
// a flash message for htmx, and an error page otherwise.
func (h *handler) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		h.log.Error("error after response started", "path", loggedPath(c.Request().URL.Path), "err", err)
		return
	}
	status, msg := statusOf(err)
	if status >= 500 {
		h.log.Error("request failed", "method", c.Request().Method, "path", loggedPath(c.Request().URL.Path), "err", err)
	}
	var werr error
	switch {
	case strings.HasPrefix(c.Request().URL.Path, "/api/"):
		werr = c.JSON(status, apiError{Error: apiErrorBody{Code: apiCode(status), Message: msg}})
	case c.Request().Method == http.MethodHead:
		werr = c.NoContent(status)
	case isHTMX(c):
		// Shown in the page's message region, wherever htmx meant to swap.
		c.Response().Header().Set("HX-Retarget", "#flash")
		c.Response().Header().Set("HX-Reswap", "outerHTML")
		werr = render(c, status, views.ErrorFlash(msg), nil)
	default:
		werr = render(c, status, views.ErrorPage(h.page(c, statusTitle(status), ""), status, msg), nil)
	}
	if werr != nil {
		h.log.Error("write error response", "err", werr)
	}
}

func statusTitle(status int) string {
	if status >= 500 {
		return "Error"
	}
	return http.StatusText(status)
}

type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// apiCode is the stable code of an API error.
func apiCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "BAD_REQUEST"
	case http.StatusUnauthorized:
		return "UNAUTHORIZED"
	case http.StatusForbidden:
		return "FORBIDDEN"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusMethodNotAllowed:
		return "METHOD_NOT_ALLOWED"
	case http.StatusUnsupportedMediaType:
		return "UNSUPPORTED_MEDIA_TYPE"
	case http.StatusRequestEntityTooLarge:
		return "TOO_LARGE"
	case http.StatusUnprocessableEntity:
		return "INVALID"
	}
	if status >= 500 {
		return "INTERNAL"
	}
	return "ERROR"
}
