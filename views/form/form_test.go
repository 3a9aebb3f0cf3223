package form

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keydesk/keydesk/store"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestParseExpiry(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2026-12-01":       time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		"2026-11-23T12:01": time.Date(2026, 11, 23, 12, 1, 0, 0, time.UTC),
	} {
		got, msg := ParseExpiry(in, now)
		if msg != "" || !got.Equal(want) {
			t.Errorf("ParseExpiry(%q) = %v, %q", in, got, msg)
		}
		if FormatExpiry(got) != in {
			t.Errorf("FormatExpiry(%v) = %q, want %q", got, FormatExpiry(got), in)
		}
	}
	for _, bad := range []string{"", "2026-11-23", "2026-11-23T12:00", "2020-01-01", "23/11/2027", "2027-02-30", "tomorrow"} {
		if _, msg := ParseExpiry(bad, now); msg == "" {
			t.Errorf("ParseExpiry(%q) accepted", bad)
		}
	}
}

func TestKeyFormValidate(t *testing.T) {
	f := ParseKeyForm(url.Values{"name": {" svc "}, "permissions": {"chat"}, "enabled": {"on"},
		"expires_at": {"2027-01-01"}, "capacity": {""}, "frequency": {"30"}})
	in, ok := f.Validate(now)
	if !ok || in.Name != "svc" || !in.Enabled || in.Capacity != store.DefaultCapacity || in.Frequency != 30 ||
		!in.ExpiresAt.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("validate: %+v %v %v", in, ok, f.Errors)
	}
	f = ParseKeyForm(url.Values{"name": {strings.Repeat("a", 101)}, "capacity": {"x"}, "frequency": {"0"}})
	if _, ok := f.Validate(now); ok {
		t.Fatal("a bad form passed")
	}
	for _, field := range []string{"name", "permissions", "expires_at", "capacity"} {
		if f.Errors.Get(field) == "" {
			t.Errorf("no message for %s: %v", field, f.Errors)
		}
	}
	if f.Name != strings.Repeat("a", 101) || f.Capacity != "x" {
		t.Fatal("the form lost what was typed")
	}
}

func TestKeyListParams(t *testing.T) {
	p, err := ParseKeyListParams(url.Values{"q": {" billing "}, "status": {"soon", "available", "soon"}, "sort": {"expires"}, "dir": {"desc"}, "after": {"abc"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Search != "billing" || len(p.Statuses) != 2 || p.Sort != store.SortExpires || !p.Desc {
		t.Fatalf("params %+v", p)
	}
	if got := p.PageURL(); got != "/keys?after=abc&dir=desc&q=billing&sort=expires&status=soon&status=available" {
		t.Fatalf("PageURL %q", got)
	}
	// Sorting by the same column again reverses it, and starts at page one.
	if got := p.SortURL(store.SortExpires); got != "/keys?q=billing&sort=expires&status=soon&status=available" {
		t.Fatalf("SortURL %q", got)
	}
	if got := (KeyListParams{Sort: store.SortName}).SortURL(store.SortName); got != "/keys?dir=desc" {
		t.Fatalf("SortURL of the default %q", got)
	}
	p, _ = ParseKeyListParams(url.Values{"status": {"soon"}, "toggle_status": {"soon"}})
	if len(p.Statuses) != 0 || !p.Toggled {
		t.Fatalf("toggle off: %+v", p)
	}
	for _, bad := range []url.Values{
		{"sort": {"secret"}}, {"status": {"x"}}, {"dir": {"up"}}, {"after": {"a"}, "before": {"b"}},
		{"toggle_status": {"x"}}, {"q": {strings.Repeat("q", 201)}},
	} {
		if _, err := ParseKeyListParams(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestSortByFromOneMenu(t *testing.T) {
	p, err := ParseKeyListParams(url.Values{"sort_by": {"expires:desc"}, "sort": {"name"}, "q": {"x"}})
	if err != nil || p.Sort != store.SortExpires || !p.Desc || !p.Toggled {
		t.Fatalf("%+v, %v", p, err)
	}
	if got := p.PageURL(); got != "/keys?dir=desc&q=x&sort=expires" {
		t.Fatalf("PageURL %q", got)
	}
	if _, err := ParseKeyListParams(url.Values{"sort_by": {"secret:desc"}}); err == nil {
		t.Fatal("an unknown sort_by was accepted")
	}
}

func TestErrorsTake(t *testing.T) {
	var errs Errors
	if err := errs.Take(&store.Error{Code: store.EINVALID, Field: "name", Message: "Taken."}); err != nil || errs.Get("name") != "Taken." {
		t.Fatalf("a field error: %v, %v", err, errs)
	}
	other := &store.Error{Code: store.ECONFLICT, Message: "Revoked."}
	if err := errs.Take(other); err != other || len(errs) != 1 {
		t.Fatalf("an error without a field: %v, %v", err, errs)
	}
	if err := errs.Take(nil); err != nil {
		t.Fatal(err)
	}
}

func TestQuickPickAndExpiryFields(t *testing.T) {
	for _, c := range []struct {
		now  time.Time
		want time.Time
	}{
		{now, time.Date(2026, 12, 23, 12, 0, 0, 0, time.UTC)},
		{now.Add(time.Second), time.Date(2026, 12, 23, 12, 1, 0, 0, time.UTC)}, // never short of 30 days
	} {
		if got, msg := ParseExpiresIn("30", c.now); msg != "" || !got.Equal(c.want) {
			t.Errorf("ParseExpiresIn(30) at %v = %v, %q; want %v", c.now, got, msg, c.want)
		}
	}
	for _, bad := range []string{"", "0", "-3", "x", "3651"} {
		if _, msg := ParseExpiresIn(bad, now); msg == "" {
			t.Errorf("ParseExpiresIn(%q) accepted", bad)
		}
	}
	for _, c := range []struct{ at, clock, want string }{
		{"2027-01-02", "09:30", "2027-01-02T09:30"},
		{"2027-01-02", "", "2027-01-02"},
		{"2027-01-02T10:00", "09:30", "2027-01-02T10:00"},
		{"", "09:30", ""},
	} {
		if got := ExpiryValue(url.Values{"expires_at": {c.at}, "expires_time": {c.clock}}); got != c.want {
			t.Errorf("ExpiryValue(%q, %q) = %q", c.at, c.clock, got)
		}
	}
	for in, want := range map[string][2]string{
		"2027-01-02T09:30": {"2027-01-02", "09:30"},
		"2027-01-02":       {"2027-01-02", ""},
		"02/01/2027":       {"02/01/2027", ""},
	} {
		if d, c := SplitExpiry(in); d != want[0] || c != want[1] {
			t.Errorf("SplitExpiry(%q) = %q, %q", in, d, c)
		}
	}
}
