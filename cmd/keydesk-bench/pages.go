package main

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/keydesk/keydesk/store"
)

// Searches of the key list: four letters from the middle of a seeded word
// ("checkout"), which many keys match, and four from rareWord.
const (
	commonSearch = "ckou"
	rareSearch   = "okka"
)

// sorts are every order the key list offers.
var sorts = []store.KeySort{store.SortName, store.SortPermissions, store.SortStatus, store.SortEnabled,
	store.SortExpires, store.SortCreatedBy, store.SortCreated, store.SortLastUsed, store.SortUses}

// A listFilter is a filter of the key list, named as its rows are.
type listFilter struct {
	name  string
	query url.Values
}

// keyFilters are the filters measured with every search and sort: no
// filter, each status, the permission, a large and a small organization,
// and combinations.
func keyFilters(orgs orgPicks) []listFilter {
	fs := []listFilter{{name: "no filter", query: url.Values{}}}
	for _, st := range store.StatusFilters {
		fs = append(fs, listFilter{"status=" + string(st), url.Values{"status": {string(st)}}})
	}
	fs = append(fs, listFilter{"permission=securemail", url.Values{"permission": {"securemail"}}})
	if orgs.haveLarge {
		fs = append(fs, listFilter{"org=large subtree", url.Values{"org": {orgs.large.ID}}})
	}
	if orgs.haveSmallLeaf {
		fs = append(fs, listFilter{"org=small leaf", url.Values{"org": {orgs.small.ID}}})
	}
	fs = append(fs, listFilter{"status=available&permission=securemail", url.Values{"status": {"available"}, "permission": {"securemail"}}})
	if orgs.haveLarge {
		fs = append(fs, listFilter{"status=soon&permission=securemail&org=large",
			url.Values{"status": {"soon"}, "permission": {"securemail"}, "org": {orgs.large.ID}}})
	}
	return fs
}

// with returns the query with one more parameter.
func with(q url.Values, name, value string) url.Values {
	out := url.Values{}
	for k, vs := range q {
		out[k] = slices.Clone(vs)
	}
	out.Set(name, value)
	return out
}

func keysPath(q url.Values) string {
	if len(q) == 0 {
		return "/keys"
	}
	return "/keys?" + q.Encode()
}

// timePage returns the median server times of a page over runs, after
// warmups, loaded whole and as the htmx partial in turn.
func (b *sizeBench) timePage(ctx context.Context, path string, warmups, runs int) (full, htmx time.Duration, err error) {
	var fulls, partials []time.Duration
	for i := range warmups + runs {
		f, err := b.admin.get(ctx, path, false)
		if err != nil {
			return 0, 0, err
		}
		h, err := b.admin.get(ctx, path, true)
		if err != nil {
			return 0, 0, err
		}
		if i >= warmups {
			fulls, partials = append(fulls, f.server), append(partials, h.server)
		}
	}
	return median(fulls), median(partials), nil
}

// page adds the figure of one page: full / htmx, median server time.
func (b *sizeBench) page(ctx context.Context, name string, bud budget, path string) error {
	full, htmx, err := b.timePage(ctx, path, b.cfg.warmups, b.cfg.runs)
	if err != nil {
		return err
	}
	b.res.add(name+" (full / htmx, ms)", bud, ms(full), ms(htmx))
	return nil
}

// keyList measures the key list: each filter, with each search, and in
// every order.
func (b *sizeBench) keyList(ctx context.Context) error {
	for _, f := range keyFilters(b.orgs) {
		b.progress("key list: %s", f.name)
		name, bud := f.name, filterBudget
		if len(f.query) == 0 {
			name, bud = "first page /keys", firstPageBudget
		}
		if err := b.page(ctx, name, bud, keysPath(f.query)); err != nil {
			return err
		}
		for _, q := range []string{commonSearch, rareSearch} {
			prefix := f.name + " & "
			if len(f.query) == 0 {
				prefix = ""
			}
			if err := b.page(ctx, prefix+"q="+q, filterBudget, keysPath(with(f.query, "q", q))); err != nil {
				return err
			}
		}
		if err := b.everySort(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

// everySort measures a filter in every order, both directions, without a
// search and with each, and adds the median and the slowest over them.
func (b *sizeBench) everySort(ctx context.Context, f listFilter) error {
	type timed struct {
		path       string
		full, htmx time.Duration
	}
	var all []timed
	for _, q := range []string{"", commonSearch, rareSearch} {
		for _, s := range b.cfg.sorts {
			for _, desc := range []bool{false, true} {
				query := with(f.query, "sort", string(s))
				if q != "" {
					query.Set("q", q)
				}
				if desc {
					query.Set("dir", "desc")
				}
				path := keysPath(query)
				full, htmx, err := b.timePage(ctx, path, min(b.cfg.warmups, 1), b.cfg.sortRuns)
				if err != nil {
					return err
				}
				all = append(all, timed{path, full, htmx})
			}
		}
	}
	fulls := make([]time.Duration, len(all))
	partials := make([]time.Duration, len(all))
	for i, t := range all {
		fulls[i], partials[i] = t.full, t.htmx
	}
	lists := fmt.Sprintf("%d orders × 3 searches", 2*len(b.cfg.sorts))
	b.res.add(f.name+", "+lists+", full page (median / max, ms)", filterBudget, ms(median(fulls)), ms(slices.Max(fulls)))
	b.res.add(f.name+", "+lists+", htmx (median / max, ms)", filterBudget, ms(median(partials)), ms(slices.Max(partials)))
	slowest := slices.MaxFunc(all, func(a, b timed) int { return cmp.Compare(a.full, b.full) })
	b.res.note("slowest order of %s: %s (%s ms full, %s ms htmx)", f.name, slowest.path,
		number(ms(slowest.full), "ms"), number(ms(slowest.htmx), "ms"))
	return nil
}

// deepPages measures a page in the middle of the list, as its page links
// reach it, and the last page.
func (b *sizeBench) deepPages(ctx context.Context) error {
	b.progress("deep pages")
	cursor, at, err := b.middle(ctx)
	if err != nil {
		return err
	}
	if err := b.page(ctx, "middle page (after=…&at=half)", deepPageBudget, keysPath(url.Values{"after": {cursor}, "at": {strconv.Itoa(at)}})); err != nil {
		return err
	}
	return b.page(ctx, "last page (last=1)", deepPageBudget, "/keys?last=1")
}

// middle returns the cursor that a page link to the middle of the list
// carries, and the position of that page's first key. The store pages
// through the list to it, ten thousand keys at a time; the cursor is the
// store's own, as opaque here as in the page's links.
func (b *sizeBench) middle(ctx context.Context) (string, int, error) {
	half := b.res.keys / 2
	cursor, done := "", 0
	for done < half {
		page, err := b.st.Keys(ctx, store.Scope{}, store.KeyQuery{Sort: store.SortName, After: cursor, Limit: min(10_000, half-done)})
		if err != nil {
			return "", 0, err
		}
		if page.Next == "" {
			break
		}
		cursor, done = page.Next, done+len(page.Keys)
	}
	return cursor, done + 1, nil
}

// shortSearches measures searches of one and two characters, which the
// search index does not serve alone.
func (b *sizeBench) shortSearches(ctx context.Context) error {
	b.progress("short searches")
	for _, s := range []struct{ name, query string }{
		{"q=e (1 character)", "q=e"},
		{"q=z (1 character, no key has it)", "q=z"},
		{"q=ck (2 characters)", "q=ck"},
		{"q=ck&status=soon&permission=securemail", "q=ck&status=soon&permission=securemail"},
	} {
		if err := b.page(ctx, s.name, shortSearchBudget, "/keys?"+s.query); err != nil {
			return err
		}
	}
	return nil
}

// events measures the audit log, which holds an event per seeded key: its
// first page, searches and each filter.
func (b *sizeBench) events(ctx context.Context) error {
	b.progress("audit log")
	created, err := b.st.Events(ctx, store.Scope{}, store.EventQuery{EventFilter: store.EventFilter{Action: store.ActionKeyCreated}, Limit: 1})
	if err != nil {
		return err
	}
	day := time.Now().UTC().Format(time.DateOnly)
	if len(created.Events) > 0 {
		day = created.Events[0].At.UTC().Format(time.DateOnly)
	}
	for _, e := range []struct{ name, query string }{
		{"audit log: first page", ""},
		{"audit log: q=checkout", "q=checkout"},
		{"audit log: q=" + rareWord + " (rare)", "q=" + rareWord},
		{"audit log: action=key.created", "action=" + store.ActionKeyCreated},
		{"audit log: action=login.succeeded (rare)", "action=" + store.ActionLoginSucceeded},
		{"audit log: actor=seed", "actor=seed"},
		{"audit log: actor=" + benchUser + " (rare)", "actor=" + benchUser},
		{"audit log: from=to=the day of the seeding", "from=" + day + "&to=" + day},
		{"audit log: from=to=a day without events", "from=2001-01-01&to=2001-01-01"},
		{"audit log: q=checkout&actor=seed&action=key.created", "q=checkout&actor=seed&action=" + store.ActionKeyCreated},
	} {
		path := "/events"
		if e.query != "" {
			path += "?" + e.query
		}
		if err := b.page(ctx, e.name, eventBudget, path); err != nil {
			return err
		}
	}
	return nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentile is the p-th percentile (0–100) of ds, nearest rank.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}
