package form

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views/urls"
)

// EventListParams are the query parameters of the Events page.
type EventListParams struct {
	Search string
	Action string
	Actor  string
	From   string // YYYY-MM-DD, UTC, inclusive
	To     string // YYYY-MM-DD, UTC, inclusive
	Before int64
	After  int64
}

// ParseEventListParams reads and checks the parameters.
func ParseEventListParams(v url.Values) (EventListParams, store.EventFilter, *store.Error) {
	p := EventListParams{
		Search: strings.TrimSpace(v.Get("q")),
		Action: v.Get("action"),
		Actor:  strings.TrimSpace(v.Get("actor")),
		From:   v.Get("from"),
		To:     v.Get("to"),
	}
	f := store.EventFilter{Search: p.Search, Action: p.Action, Actor: p.Actor}
	if len(p.Search) > 200 {
		return p, f, store.Errorf(store.EINVALID, "q", "The search is too long: use at most 200 characters.")
	}
	if p.Action != "" && !slices.Contains(store.EventActions, p.Action) {
		return p, f, store.Errorf(store.EINVALID, "action", "There is no event action %q.", p.Action)
	}
	for _, d := range []struct {
		value string
		dst   *time.Time
		days  int
	}{{p.From, &f.From, 0}, {p.To, &f.To, 1}} {
		if d.value == "" {
			continue
		}
		t, err := time.Parse(dateLayout, d.value)
		if err != nil {
			return p, f, store.Errorf(store.EINVALID, "date", "Enter dates as YYYY-MM-DD.")
		}
		// Events are stamped in Unix time; and an earlier date could end
		// at the zero time, which would switch its filter off.
		if t.Year() < 1970 {
			return p, f, store.Errorf(store.EINVALID, "date", "Choose dates from 1970 on.")
		}
		*d.dst = t.AddDate(0, 0, d.days) // "to" includes its whole day
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return p, f, store.Errorf(store.EINVALID, "date", "The start date is after the end date.")
	}
	for _, c := range []struct {
		name string
		dst  *int64
	}{{"before", &p.Before}, {"after", &p.After}} {
		if s := v.Get(c.name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 {
				return p, f, store.Errorf(store.EINVALID, c.name, "This page link is not valid. Start again from the first page.")
			}
			*c.dst = n
		}
	}
	if p.Before > 0 && p.After > 0 {
		return p, f, store.Errorf(store.EINVALID, "after", "A page link cannot have both after and before.")
	}
	return p, f, nil
}

// Filtered reports whether any filter is on.
func (p EventListParams) Filtered() bool {
	return p.Search != "" || p.Action != "" || p.Actor != "" || p.From != "" || p.To != ""
}

// Values encodes the filters.
func (p EventListParams) Values() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{{"q", p.Search}, {"action", p.Action}, {"actor", p.Actor}, {"from", p.From}, {"to", p.To}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	return v
}

// URL links to the first page; PageURL to this page.
func (p EventListParams) URL() string { return urls.WithQuery(urls.Events, p.Values()) }

func (p EventListParams) PageURL() string {
	v := p.Values()
	if p.Before > 0 {
		v.Set("before", strconv.FormatInt(p.Before, 10))
	}
	if p.After > 0 {
		v.Set("after", strconv.FormatInt(p.After, 10))
	}
	return urls.WithQuery(urls.Events, v)
}

// OlderURL and NewerURL link to the pages beside this one.
func (p EventListParams) OlderURL(before int64) string {
	v := p.Values()
	v.Set("before", strconv.FormatInt(before, 10))
	return urls.WithQuery(urls.Events, v)
}

func (p EventListParams) NewerURL(after int64) string {
	v := p.Values()
	v.Set("after", strconv.FormatInt(after, 10))
	return urls.WithQuery(urls.Events, v)
}

// ExportURL downloads what the page shows, every page of it.
func (p EventListParams) ExportURL() string { return urls.WithQuery(urls.EventsExport, p.Values()) }
