package form

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseExpiry types anything into the expiry field: what is accepted is
// a whole minute in the future, in UTC whatever the machine's zone, and
// reads back the same from the form that FormatExpiry fills in.
func FuzzParseExpiry(f *testing.F) {
	// A zone far from UTC, so that any use of the local zone shows.
	local := time.Local
	time.Local = time.FixedZone("UTC+13:45", 13*3600+45*60)
	f.Cleanup(func() { time.Local = local })
	f.Fuzz(func(t *testing.T, s string) {
		at, msg := ParseExpiry(s, now)
		if msg != "" {
			if !at.IsZero() {
				t.Fatalf("ParseExpiry(%q) refused with %q but gave %v", s, msg, at)
			}
			return
		}
		if at.Location() != time.UTC || !at.Equal(at.Truncate(time.Minute)) || !at.After(now) {
			t.Fatalf("ParseExpiry(%q) = %v: want a whole minute after %v, in UTC", s, at, now)
		}
		typed := FormatExpiry(at)
		// A time at midnight is shown as the date alone.
		if typed != s && typed+"T00:00" != s {
			t.Fatalf("ParseExpiry(%q) = %v, shown as %q", s, at, typed)
		}
		again, msg := ParseExpiry(typed, now)
		if msg != "" || !again.Equal(at) || again.Location() != time.UTC {
			t.Fatalf("%q shown as %q reads back as %v, %q", s, typed, again, msg)
		}
		if strings.TrimSpace(s) != s {
			t.Fatalf("ParseExpiry(%q) accepted surrounding space", s)
		}
	})
}
