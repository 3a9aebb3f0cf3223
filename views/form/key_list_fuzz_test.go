package form

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keydesk/keydesk/store"
)

// FuzzParseKeyListParams reads key list addresses as someone might edit
// them: the parameters are refused with a message on a known field, or
// hold only values the page offers, and the page's own links read back to
// the same list.
func FuzzParseKeyListParams(f *testing.F) {
	f.Fuzz(func(t *testing.T, query string) {
		v, _ := url.ParseQuery(query) // keeps what parses, as Echo does
		p, perr := ParseKeyListParams(v)
		if perr != nil {
			if perr.Code != store.EINVALID || perr.Message == "" ||
				!slices.Contains([]string{"q", "status", "sort", "dir", "after", "last", "at"}, perr.Field) {
				t.Fatalf("%q: unexpected error %#v", query, perr)
			}
			return
		}
		if len(p.Search) > 200 || p.Search != strings.TrimSpace(p.Search) {
			t.Fatalf("%q: search %q", query, p.Search)
		}
		if !store.ValidKeySort(p.Sort) {
			t.Fatalf("%q: sort %q", query, p.Sort)
		}
		for i, st := range p.Statuses {
			if !slices.Contains(store.StatusFilters, st) || slices.Contains(p.Statuses[:i], st) {
				t.Fatalf("%q: statuses %q", query, p.Statuses)
			}
		}
		if p.After != "" && p.Before != "" || p.Last && (p.After != "" || p.Before != "") {
			t.Fatalf("%q: more than one place to start", query)
		}
		if p.At < 0 {
			t.Fatalf("%q: position %d", query, p.At)
		}
		// What the page links to must read back as the same list.
		for _, link := range []string{p.PageURL(), p.URL()} {
			path, raw, _ := strings.Cut(link, "?")
			if path != "/keys" {
				t.Fatalf("%q: link %q", query, link)
			}
			v2, err := url.ParseQuery(raw)
			if err != nil {
				t.Fatalf("%q: link %q does not parse: %v", query, link, err)
			}
			p2, perr := ParseKeyListParams(v2)
			if perr != nil {
				t.Fatalf("%q: link %q refused: %v", query, link, perr.Message)
			}
			want := p
			want.Toggled = false
			if link == p.URL() {
				want.After, want.Before, want.Last, want.At = "", "", false, 0
			}
			if len(want.Statuses) == 0 {
				want.Statuses = nil
			}
			if !reflect.DeepEqual(p2, want) {
				t.Fatalf("%q: link %q reads as %+v, want %+v", query, link, p2, want)
			}
		}
	})
}

// FuzzParseEventListParams does the same for the audit log's filters, its
// dates and its numeric page cursors.
func FuzzParseEventListParams(f *testing.F) {
	f.Fuzz(func(t *testing.T, query string) {
		v, _ := url.ParseQuery(query)
		p, filter, perr := ParseEventListParams(v)
		if perr != nil {
			if perr.Code != store.EINVALID || perr.Message == "" ||
				!slices.Contains([]string{"q", "action", "date", "before", "after"}, perr.Field) {
				t.Fatalf("%q: unexpected error %#v", query, perr)
			}
			return
		}
		if len(p.Search) > 200 || p.Before < 0 || p.After < 0 || (p.Before > 0 && p.After > 0) {
			t.Fatalf("%q: %+v", query, p)
		}
		if p.Action != "" && !slices.Contains(store.EventActions, p.Action) {
			t.Fatalf("%q: action %q", query, p.Action)
		}
		for _, d := range []struct {
			typed string
			at    time.Time
		}{{p.From, filter.From}, {p.To, filter.To}} {
			if (d.typed == "") != d.at.IsZero() {
				t.Fatalf("%q: date %q gave %v", query, d.typed, d.at)
			}
			if !d.at.IsZero() && (d.at.Location() != time.UTC || !d.at.Equal(d.at.Truncate(24*time.Hour))) {
				t.Fatalf("%q: date %q gave %v, not midnight UTC", query, d.typed, d.at)
			}
		}
		if !filter.From.IsZero() && !filter.To.IsZero() && !filter.From.Before(filter.To) {
			t.Fatalf("%q: from %v is not before to %v", query, filter.From, filter.To)
		}
		path, raw, _ := strings.Cut(p.PageURL(), "?")
		v2, err := url.ParseQuery(raw)
		if path != "/events" || err != nil {
			t.Fatalf("%q: link %q", query, p.PageURL())
		}
		p2, filter2, perr := ParseEventListParams(v2)
		if perr != nil || !reflect.DeepEqual(p2, p) || !reflect.DeepEqual(filter2, filter) {
			t.Fatalf("%q: link %q reads as %+v %+v %v, want %+v %+v", query, p.PageURL(), p2, filter2, perr, p, filter)
		}
	})
}
