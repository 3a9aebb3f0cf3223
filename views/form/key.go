package form

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keydesk/keydesk/store"
)

// KeyForm is the New API key form.
type KeyForm struct {
	Name         string
	Permissions  []string
	Enabled      bool
	NeverExpires bool
	ExpiresAt    string // as typed: YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC
	Capacity     string
	Frequency    string
	// RotateEvery is the rotation schedule in days; empty never rotates.
	RotateEvery string
	CopyOf      string // public id of the key being copied
	Org         string // public id of the key's organization; empty is the creator's own
	ExpiryNote  string // why the expiry differs from the copied key's
	Errors      Errors
}

// NewKeyForm returns the form as it first appears.
func NewKeyForm() KeyForm {
	return KeyForm{
		Enabled:      true,
		NeverExpires: true,
		Capacity:     strconv.Itoa(store.DefaultCapacity),
		Frequency:    strconv.Itoa(store.DefaultFrequency),
	}
}

// CopyKeyForm returns the form prefilled from k, named name.
func CopyKeyForm(k store.Key, name string, now time.Time) KeyForm {
	f := KeyForm{
		Name:         name,
		Permissions:  slices.Clone(k.Permissions),
		Enabled:      k.Enabled,
		NeverExpires: true,
		Capacity:     strconv.Itoa(k.Capacity),
		Frequency:    strconv.Itoa(k.Frequency),
		RotateEvery:  DaysText(k.RotateEveryDays),
		CopyOf:       k.ID,
		Org:          k.OrgID,
	}
	// A date that has passed would only be refused; the copy then starts
	// out never expiring, and says so.
	if !k.ExpiresAt.IsZero() && k.ExpiresAt.After(now) {
		f.NeverExpires = false
		f.ExpiresAt = FormatExpiry(k.ExpiresAt)
	} else if !k.ExpiresAt.IsZero() {
		f.ExpiryNote = "The key you copy expired on " + k.ExpiresAt.UTC().Format("2006-01-02") + ", so the copy starts out never expiring. Choose a date if it should expire."
	}
	return f
}

// ParseKeyForm reads the form from posted values.
func ParseKeyForm(v url.Values) KeyForm {
	return KeyForm{
		Name:         v.Get("name"),
		Permissions:  v["permissions"],
		Enabled:      v.Get("enabled") == "on",
		NeverExpires: v.Get("never_expires") == "on",
		ExpiresAt:    ExpiryValue(v),
		Capacity:     strings.TrimSpace(v.Get("capacity")),
		Frequency:    strings.TrimSpace(v.Get("frequency")),
		RotateEvery:  strings.TrimSpace(v.Get("rotate_every_days")),
		CopyOf:       v.Get("copy_of"),
		Org:          v.Get("org"),
	}
}

// Validate checks the form at now, filling f.Errors, and returns the key to
// create when there is no error. Rules that need the database (a unique
// name, a known permission) are the store's to check.
func (f *KeyForm) Validate(now time.Time) (store.NewKey, bool) {
	f.Errors = nil
	in := store.NewKey{
		Name:        strings.TrimSpace(f.Name),
		Permissions: f.Permissions,
		Enabled:     f.Enabled,
		CopiedFrom:  f.CopyOf,
		Org:         f.Org,
	}
	if msg := store.KeyNameProblem(in.Name); msg != "" {
		f.Errors.Add("name", msg)
	}
	if len(f.Permissions) == 0 {
		f.Errors.Add("permissions", "Choose at least one permission.")
	}
	if !f.NeverExpires {
		t, msg := ParseExpiry(f.ExpiresAt, now)
		if msg != "" {
			f.Errors.Add("expires_at", msg)
		}
		in.ExpiresAt = t
	}
	var capErr, freqErr bool
	in.Capacity, capErr = parseCount(f.Capacity, store.DefaultCapacity)
	in.Frequency, freqErr = parseCount(f.Frequency, store.DefaultFrequency)
	if capErr {
		f.Errors.Add("capacity", "Enter a whole number of requests.")
	}
	if freqErr {
		f.Errors.Add("frequency", "Enter a whole number of seconds.")
	}
	if !capErr && !freqErr {
		if field, msg := store.RateLimitProblem(in.Capacity, in.Frequency); msg != "" {
			f.Errors.Add(field, msg)
		}
	}
	in.RotateEveryDays = ParseRotateEvery(f.RotateEvery, &f.Errors)
	return in, !f.Errors.Any()
}

// ParseRotateEvery reads a rotation schedule as typed (empty: none),
// adding what is wrong with it to errs.
func ParseRotateEvery(typed string, errs *Errors) int {
	days, bad := parseCount(typed, 0)
	if bad || store.RotateEveryProblem(days) != "" || (typed != "" && days == 0) {
		errs.Add("rotate_every_days", store.RotateEveryProblem(-1))
	}
	return days
}

// ParseGraceDays reads the grace period of a rotation as typed: empty is
// the organization's (store.OrgGrace). What is wrong goes to errs.
func ParseGraceDays(typed string, errs *Errors) int {
	if typed == "" {
		return store.OrgGrace
	}
	days, bad := parseCount(typed, 0)
	if bad || store.GraceProblem(days) != "" {
		errs.Add("grace_days", store.GraceProblem(-1))
	}
	return days
}

// DaysText writes a number of days for a field where empty is none.
func DaysText(days int) string {
	if days == 0 {
		return ""
	}
	return strconv.Itoa(days)
}

// parseCount reads a whole number, with def for an empty field. It reports
// true when the text is not a number.
func parseCount(s string, def int) (int, bool) {
	if s == "" {
		return def, false
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, true
	}
	return n, false
}

// Expiry formats: a date means midnight UTC at its start.
const (
	dateLayout     = "2006-01-02"
	dateTimeLayout = "2006-01-02T15:04"
)

// ParseExpiry reads an expiry date typed as YYYY-MM-DD or YYYY-MM-DDTHH:MM
// (UTC) and checks it is in the future. It returns the time, or a message
// saying what is wrong.
func ParseExpiry(s string, now time.Time) (time.Time, string) {
	if s == "" {
		return time.Time{}, "Choose an expiration date, or Will never expire."
	}
	// The length picks the layout: time.Parse alone would take a one-digit
	// hour, which the form would then show differently.
	layout := dateLayout
	if len(s) == len(dateTimeLayout) {
		layout = dateTimeLayout
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, "Enter the date as YYYY-MM-DD, optionally with a time as YYYY-MM-DDTHH:MM (UTC)."
	}
	if msg := store.ExpiryProblem(t, now); msg != "" {
		return time.Time{}, msg
	}
	return t, ""
}

// ExpiryValue reads the expiry as posted: expires_at, a date or a date and
// time, completed by the form's optional time field, expires_time.
func ExpiryValue(v url.Values) string {
	at := strings.TrimSpace(v.Get("expires_at"))
	if clock := strings.TrimSpace(v.Get("expires_time")); clock != "" && len(at) == len(dateLayout) {
		return at + "T" + clock
	}
	return at
}

// SplitExpiry splits an expiry as typed into what the date field and the
// time field show. What is not a date and a time stays whole in the date
// field, so that a mistake is shown as typed.
func SplitExpiry(s string) (date, clock string) {
	if len(s) == len(dateTimeLayout) && s[len(dateLayout)] == 'T' {
		return s[:len(dateLayout)], s[len(dateLayout)+1:]
	}
	return s, ""
}

// QuickPicks are the expiries offered at a click, in days from now.
var QuickPicks = []int{30, 90, 365}

// maxQuickDays bounds a quick pick; the store checks the real limits.
const maxQuickDays = 3650

// ParseExpiresIn reads a quick pick, a number of days from now, and returns
// the time exactly that far ahead, rounded up to the whole minute that an
// expiry is kept to.
func ParseExpiresIn(s string, now time.Time) (time.Time, string) {
	days, err := strconv.Atoi(s)
	if err != nil || days < 1 || days > maxQuickDays {
		return time.Time{}, "Choose a number of days from 1 to 3650."
	}
	at := now.UTC().AddDate(0, 0, days)
	if t := at.Truncate(time.Minute); !t.Equal(at) {
		at = t.Add(time.Minute)
	}
	return at, ""
}

// FormatExpiry is the inverse of ParseExpiry: a date when t is at midnight.
func FormatExpiry(t time.Time) string {
	t = t.UTC()
	if t.Hour() == 0 && t.Minute() == 0 {
		return t.Format(dateLayout)
	}
	return t.Format(dateTimeLayout)
}
