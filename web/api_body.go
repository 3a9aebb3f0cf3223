package web

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/labstack/echo/v4"
)

// maxAPIBody bounds a management API request's body.
const maxAPIBody = 64 << 10

// apiBodyError is a body the management API refuses: 400, INVALID, with
// the field it is about when there is one.
func apiBodyError(c echo.Context, field, msg string) error {
	return c.JSON(http.StatusBadRequest, apiError{Error: apiErrorBody{Code: "INVALID", Message: msg, Field: field}})
}

// decodeAPIBody reads a request's JSON body into dst strictly, as the
// verification API does: JSON by its Content-Type, one object and nothing
// after it, known fields only, spelled exactly, each once, of the right
// type. It answers the refusal itself and returns false then.
func decodeAPIBody(c echo.Context, dst any) (bool, error) {
	if mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); err != nil || mt != echo.MIMEApplicationJSON {
		return false, apiBodyError(c, "Content-Type", "Send the body as JSON, with Content-Type: application/json.")
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxAPIBody+1))
	if err != nil {
		return false, err
	}
	if len(body) > maxAPIBody {
		return false, apiBodyError(c, "", "The body is too large.")
	}
	if start := bytes.TrimLeft(body, " \t\r\n"); len(start) == 0 || start[0] != '{' {
		return false, apiBodyError(c, "", "The body must be one JSON object.")
	}
	err = json.Unmarshal(body, dst, json.RejectUnknownMembers(true))
	if err == nil {
		return true, nil
	}
	var se *json.SemanticError
	var sy *jsontext.SyntacticError
	switch {
	case errors.As(err, &sy) && sy.Err == jsontext.ErrDuplicateName:
		name := fieldName(sy.JSONPointer)
		return false, apiBodyError(c, unquote(name), "The field "+name+" appears more than once.")
	case errors.As(err, &se) && se.Err == json.ErrUnknownName:
		name := fieldName(se.JSONPointer)
		return false, apiBodyError(c, unquote(name), "The field "+name+" is not known.")
	case errors.As(err, &se) && se.JSONPointer != "":
		name := fieldName(se.JSONPointer)
		return false, apiBodyError(c, unquote(name), "The field "+name+" has the wrong type.")
	}
	return false, apiBodyError(c, "", "The body must hold one JSON object and nothing after it.")
}

// unquote takes fieldName's quotes off, for the error's field; a name
// too long to repeat names no field.
func unquote(name string) string {
	if len(name) >= 2 && name[0] == '"' {
		return name[1 : len(name)-1]
	}
	return ""
}
