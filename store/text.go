package store

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TextProblem returns what is wrong with a name or description that a
// person typed (key and role names, display names, permission
// descriptions), or "". It is the one rule for all of them: valid UTF-8, no
// control characters (an escape sequence would run in a terminal that
// prints it, a line break splits a log line), and no bidirectional controls
// (U+202E makes "billing‮verp" read as "billingprev": the text would not be
// what it shows).
func TextProblem(s string) string {
	if !utf8.ValidString(s) {
		return "This is not valid text."
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			return "Remove the control characters (such as tabs, line breaks or escapes)."
		case unicode.Is(unicode.Bidi_Control, r):
			return "Remove the invisible direction marks (bidirectional controls)."
		}
	}
	return ""
}

// Printable returns s with every character that TextProblem refuses
// written as an escape (\x1b, \u202e), for printing text stored before the
// rule, or from elsewhere, to a terminal.
func Printable(s string) string {
	if TextProblem(s) == "" {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], string(utf8.RuneError)):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Thousands writes n with comma separators: "1,000,000".
func Thousands(n int) string {
	if n < 0 {
		return "-" + Thousands(-n)
	}
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
