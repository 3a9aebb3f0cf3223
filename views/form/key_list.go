package form

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views/urls"
)

// KeyListParams are the query parameters of the API keys page: the filters,
// the sort and the page. They make every link of the page.
type KeyListParams struct {
	Search     string
	Statuses   []store.StatusFilter
	Permission string
	CreatedBy  string
	Org        string // an organization's public id: its keys and those below
	Sort       store.KeySort
	Desc       bool
	After      string
	Before     string
	Last       bool // the last page
	// At is the position of the page's first key in the list (1 for the
	// first), carried in page links for the "51–100 of 1,204" line; 0 when
	// not known. Keyset paging does not need it.
	At int
	// Toggled is set when a status button was pressed: the URL that asked
	// for the list is not the list's own.
	Toggled bool
}

// ParseKeyListParams reads the parameters from a query string. Values that
// the page never links to (an unknown sort or status) are an error with a
// message for the person who edited the URL.
func ParseKeyListParams(v url.Values) (KeyListParams, *store.Error) {
	p := KeyListParams{
		Search:     strings.TrimSpace(v.Get("q")),
		Permission: v.Get("permission"),
		CreatedBy:  v.Get("created_by"),
		Org:        v.Get("org"),
		Sort:       store.SortName,
		After:      v.Get("after"),
		Before:     v.Get("before"),
	}
	if len(p.Search) > 200 {
		return p, &store.Error{Code: store.EINVALID, Field: "q", Message: "The search is too long: use at most 200 characters."}
	}
	for _, s := range v["status"] {
		st := store.StatusFilter(s)
		if !slices.Contains(store.StatusFilters, st) {
			return p, store.Errorf(store.EINVALID, "status", "There is no status %q. Use available, unavailable, soon or disabled.", s)
		}
		if !slices.Contains(p.Statuses, st) {
			p.Statuses = append(p.Statuses, st)
		}
	}
	// The status buttons of the page submit the filters with the one they flip.
	if t := v.Get("toggle_status"); t != "" {
		st := store.StatusFilter(t)
		if !slices.Contains(store.StatusFilters, st) {
			return p, store.Errorf(store.EINVALID, "status", "There is no status %q. Use available, unavailable, soon or disabled.", t)
		}
		if i := slices.Index(p.Statuses, st); i >= 0 {
			p.Statuses = slices.Delete(p.Statuses, i, i+1)
		} else {
			p.Statuses = append(p.Statuses, st)
		}
		p.Toggled = true
	}
	// Phones, which hide the table's headers, sort with one menu: sort_by
	// is "column" or "column:desc".
	if sb := v.Get("sort_by"); sb != "" {
		col, dir, _ := strings.Cut(sb, ":")
		v = cloneValues(v)
		v.Set("sort", col)
		v.Set("dir", map[bool]string{true: "desc", false: "asc"}[dir == "desc"])
		p.Toggled = true // the address to show is the canonical one
	}
	if s := v.Get("sort"); s != "" {
		p.Sort = store.KeySort(s)
		if s == "key" {
			// The truncated key was once a sort; nobody sorted by it, and
			// its index cost more than any other. Old bookmarks get names.
			p.Sort = store.SortName
		}
		if !store.ValidKeySort(p.Sort) {
			return p, store.Errorf(store.EINVALID, "sort", "The list cannot be sorted by %q.", s)
		}
	}
	switch v.Get("dir") {
	case "", "asc":
	case "desc":
		p.Desc = true
	default:
		return p, store.Errorf(store.EINVALID, "dir", "The sort direction must be asc or desc.")
	}
	if p.After != "" && p.Before != "" {
		return p, store.Errorf(store.EINVALID, "after", "A page link cannot have both after and before.")
	}
	switch v.Get("last") {
	case "":
	case "1":
		if p.After != "" || p.Before != "" {
			return p, store.Errorf(store.EINVALID, "last", "A link to the last page has no after or before.")
		}
		p.Last = true
	default:
		return p, store.Errorf(store.EINVALID, "last", "last must be 1.")
	}
	if a := v.Get("at"); a != "" {
		n, err := strconv.Atoi(a)
		if err != nil || n < 1 {
			return p, store.Errorf(store.EINVALID, "at", "at must be a position in the list, from 1.")
		}
		p.At = n
	}
	return p, nil
}

// Filter is the store filter these parameters describe.
func (p KeyListParams) Filter() store.KeyFilter {
	return store.KeyFilter{Search: p.Search, Statuses: p.Statuses, Permission: p.Permission, CreatedBy: p.CreatedBy, Org: p.Org}
}

// Filtered reports whether any filter is on.
func (p KeyListParams) Filtered() bool {
	return p.Search != "" || len(p.Statuses) > 0 || p.Permission != "" || p.CreatedBy != "" || p.Org != ""
}

// HasStatus reports whether the status filter st is on.
func (p KeyListParams) HasStatus(st store.StatusFilter) bool {
	return slices.Contains(p.Statuses, st)
}

// FilterValues encodes the filters alone.
func (p KeyListParams) FilterValues() url.Values {
	v := url.Values{}
	if p.Search != "" {
		v.Set("q", p.Search)
	}
	for _, st := range p.Statuses {
		v.Add("status", string(st))
	}
	if p.Permission != "" {
		v.Set("permission", p.Permission)
	}
	if p.CreatedBy != "" {
		v.Set("created_by", p.CreatedBy)
	}
	if p.Org != "" {
		v.Set("org", p.Org)
	}
	return v
}

// Values encodes the filters and the sort, leaving out defaults.
func (p KeyListParams) Values() url.Values {
	v := p.FilterValues()
	if p.Sort != store.SortName {
		v.Set("sort", string(p.Sort))
	}
	if p.Desc {
		v.Set("dir", "desc")
	}
	return v
}

// URL links to the first page of this list.
func (p KeyListParams) URL() string { return urls.WithQuery(urls.Keys, p.Values()) }

// PageURL links to this page of the list.
func (p KeyListParams) PageURL() string {
	v := p.Values()
	if p.After != "" {
		v.Set("after", p.After)
	}
	if p.Before != "" {
		v.Set("before", p.Before)
	}
	if p.Last {
		v.Set("last", "1")
	}
	if p.At > 0 {
		v.Set("at", strconv.Itoa(p.At))
	}
	return urls.WithQuery(urls.Keys, v)
}

// AfterURL and BeforeURL link to the pages beside this one, whose first
// key is at position at (0 when not known).
func (p KeyListParams) AfterURL(cursor string, at int) string {
	return p.pageLink("after", cursor, at)
}

func (p KeyListParams) BeforeURL(cursor string, at int) string {
	return p.pageLink("before", cursor, at)
}

// LastURL links to the last page.
func (p KeyListParams) LastURL() string {
	v := p.Values()
	v.Set("last", "1")
	return urls.WithQuery(urls.Keys, v)
}

func (p KeyListParams) pageLink(name, cursor string, at int) string {
	v := p.Values()
	v.Set(name, cursor)
	if at > 0 {
		v.Set("at", strconv.Itoa(at))
	}
	return urls.WithQuery(urls.Keys, v)
}

// SortURL links to this list sorted by s: ascending, or reversed when it is
// already sorted by s ascending.
func (p KeyListParams) SortURL(s store.KeySort) string {
	q := p
	q.After, q.Before, q.Last, q.At = "", "", false, 0
	q.Desc = q.Sort == s && !q.Desc
	q.Sort = s
	return q.URL()
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
