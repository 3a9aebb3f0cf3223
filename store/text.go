package store

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
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

// Plural writes n with the right form of a noun: "1 key", "1,204 keys".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return Thousands(n) + " " + many
}

// Relative says how far t is from now: "in 12 days", "3 hours ago".
func Relative(t, now time.Time) string {
	d := t.Sub(now)
	future := d > 0
	if !future {
		d = -d
	}
	var amount string
	switch {
	case d < time.Minute && future:
		return "in under a minute"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		amount = Plural(int(d/time.Minute), "minute", "minutes")
	case d < 24*time.Hour:
		amount = Plural(int(d/time.Hour), "hour", "hours")
	case d < 45*24*time.Hour:
		// Rounded: a key set to expire in 30 days still says so a minute later.
		amount = Plural(int(d.Round(24*time.Hour)/(24*time.Hour)), "day", "days")
	case d < 320*24*time.Hour:
		amount = Plural(int(math.Round(float64(d)/float64(30*24*time.Hour))), "month", "months")
	default:
		amount = Plural(max(1, int(math.Round(float64(d)/float64(365*24*time.Hour)))), "year", "years")
	}
	if future {
		return "in " + amount
	}
	return amount + " ago"
}
