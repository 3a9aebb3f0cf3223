// Package form holds the view models of the console's forms and list
// queries: it parses and checks what people type, keeps every value as
// typed, and carries the message for each field, so that a form with an
// error comes back filled in. The views render these models; the web
// handlers fill them from requests. It depends on neither.
package form

import (
	"errors"
	"strings"

	"github.com/keydesk/keydesk/store"
)

// Errors holds one message per field that has a problem.
type Errors map[string]string

// Add records msg for field unless the field already has a message.
func (e *Errors) Add(field, msg string) {
	if *e == nil {
		*e = Errors{}
	}
	if _, ok := (*e)[field]; !ok {
		(*e)[field] = msg
	}
}

// Get returns the message for field, or "".
func (e Errors) Get(field string) string { return e[field] }

// Any reports whether there is any message.
func (e Errors) Any() bool { return len(e) > 0 }

// Take records err beside its field when it is a store error about one,
// and returns nil; any other error it returns as it is. Handlers use it to
// put the store's refusals (a taken name, an unknown role) on the form.
func (e *Errors) Take(err error) error {
	var se *store.Error
	if errors.As(err, &se) && se.Field != "" {
		e.Add(se.Field, se.Message)
		return nil
	}
	return err
}

// CSVCell keeps a spreadsheet from running a cell as a formula: a value
// that starts like one gets a leading apostrophe.
func CSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
