package store

import (
	"errors"
	"fmt"
)

// Error codes. The web layer maps each to one HTTP status.
const (
	EINVALID   = "invalid"   // the input breaks a rule; nothing changed
	ENOTFOUND  = "not_found" // no such record
	ECONFLICT  = "conflict"  // the record's state does not allow the change
	EFORBIDDEN = "forbidden" // the actor may not make this change
	ELIMITED   = "limited"   // too many such requests: wait and try again
	// EUNAUTHORIZED: the credential presented (an access token) lets
	// nobody in.
	EUNAUTHORIZED = "unauthorized"
)

// Error is an error a user can act on: Message is written for them, Field
// names the form field it belongs beside, if any.
type Error struct {
	Code    string
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return e.Code + ": " + e.Message
}

// Errorf returns an *Error with a formatted message.
func Errorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is an *Error, and "" otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
