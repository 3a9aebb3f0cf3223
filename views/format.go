package views

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/keydesk/keydesk/store"
)

// exactTime is a time as the console prints it in full.
func exactTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// isoTime is a time for a datetime attribute.
func isoTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// relTime says how far t is from now: "in 12 days", "3 hours ago".
func relTime(t, now time.Time) string { return store.Relative(t, now) }

// cadence says how often something runs: "every minute", "every 5 minutes".
func cadence(d time.Duration) string {
	switch {
	case d == time.Minute:
		return "every minute"
	case d == time.Hour:
		return "every hour"
	case d == 24*time.Hour:
		return "every day"
	case d%time.Hour == 0:
		return "every " + plural(int(d/time.Hour), "hour", "hours")
	case d%time.Minute == 0:
		return "every " + plural(int(d/time.Minute), "minute", "minutes")
	}
	return "every " + d.String()
}

// plural writes n with the right form of a noun: "1 key", "1,204 keys".
func plural(n int, one, many string) string { return store.Plural(n, one, many) }

// thousands writes n with comma separators.
func thousands(n int) string { return store.Thousands(n) }

// quoted puts a name in typographic quotes for messages.
func quoted(s string) string { return fmt.Sprintf("“%s”", s) }

func statusTitle(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Not found"
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusConflict:
		return "That cannot be done now"
	case http.StatusUnprocessableEntity, http.StatusBadRequest:
		return "Something is not right"
	case http.StatusTooManyRequests:
		return "Too many attempts"
	}
	if status >= 500 {
		return "Something went wrong"
	}
	return http.StatusText(status)
}

func itoa(n int) string { return strconv.Itoa(n) }
