package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views/form"
)

// TestKeySearchIsQuickAndQueued: the search waits 150 ms after the last
// keystroke, and a search typed while one is on its way waits its turn
// rather than aborting it (an abort is logged as an error).
func TestKeySearchIsQuickAndQueued(t *testing.T) {
	p := Page{User: admin(), Now: now}
	v := KeyList{Params: form.KeyListParams{Sort: store.SortName}, Page: store.KeyPage{Total: 1, Keys: []store.Key{{ID: "k1", Name: "a", Enabled: true}}}}
	f := renderDoc(t, KeyListPage(p, v)).Find(`#key-filters`)
	if trigger := f.AttrOr("hx-trigger", ""); !strings.Contains(trigger, "input changed delay:150ms from:#key-search") {
		t.Errorf("hx-trigger %q", trigger)
	}
	if sync := f.AttrOr("hx-sync", ""); sync != "this:queue last" {
		t.Errorf("hx-sync %q", sync)
	}
}

func TestRowMenuSaysDuplicate(t *testing.T) {
	p := Page{User: admin(), Now: now, CSRF: "tok"}
	d := renderDoc(t, KeyRow(p, store.Key{ID: "k1", Name: "a", Enabled: true}, "/keys", false, "", nil))
	if got := strings.TrimSpace(d.Find(`[data-testid=row-copy]`).Text()); got != "Duplicate" {
		t.Fatalf("the row menu's copy item says %q", got)
	}
}

func TestKeyColumnIsNotSortable(t *testing.T) {
	p := Page{User: admin(), Now: now}
	v := KeyList{Params: form.KeyListParams{Sort: store.SortName}, Page: store.KeyPage{Total: 1, Keys: []store.Key{{ID: "k1", Name: "a"}}}}
	d := renderDoc(t, KeyResults(p, v))
	th := d.Find(`th.col-key`)
	if strings.TrimSpace(th.Text()) != "Key" || th.Find("a").Length() != 0 || th.AttrOr("aria-sort", "") != "" {
		t.Fatalf("the Key header is %q with %d links", th.Text(), th.Find("a").Length())
	}
	if d.Find(`[data-testid=sort-name]`).Length() != 1 {
		t.Fatal("the Name header lost its sort link")
	}
}

// TestEmptyListShowsOnlyTheEmptyState: with no keys at all there is
// nothing to filter, download or test.
func TestEmptyListShowsOnlyTheEmptyState(t *testing.T) {
	p := Page{User: admin(), Now: now}
	d := renderDoc(t, KeyListPage(p, KeyList{Params: form.KeyListParams{Sort: store.SortName}}))
	if d.Find(`[data-testid=empty-state]`).Length() != 1 {
		t.Fatal("no empty state")
	}
	for _, sel := range []string{`#key-filters`, `[data-testid=export-csv]`, `[data-testid=test-key-link]`, `[data-testid=key-count]`} {
		if d.Find(sel).Length() != 0 {
			t.Errorf("the empty list shows %s", sel)
		}
	}
	// With a search that matches nothing, the filters stay.
	d = renderDoc(t, KeyListPage(p, KeyList{Params: form.KeyListParams{Search: "x", Sort: store.SortName}}))
	if d.Find(`#key-filters`).Length() != 1 || d.Find(`[data-testid=no-match]`).Length() != 1 {
		t.Fatal("a search without matches lost its filters")
	}
}

// TestEventRowShowsMoreOnlyWhenThereIsMore, and names a user by username,
// not by internal number.
func TestEventRowShowsMoreOnlyWhenThereIsMore(t *testing.T) {
	p := Page{User: admin(), Now: now}
	plain := store.Event{ID: 1, At: now, ActorUsername: "admin", Action: store.ActionUserEnabled, TargetType: store.TargetUser, TargetID: "42", TargetName: "vera", UserAgent: "Firefox", ClientAddr: "192.0.2.1"}
	d := renderRow(t, EventRow(p, plain))
	if d.Find(`[data-testid=event-more]`).Length() != 0 {
		t.Error("an event with nothing more offers More")
	}
	target := d.Find(`td[data-label=Target]`)
	if strings.Contains(target.Text(), "42") || strings.TrimSpace(target.Find(`[data-testid=event-target]`).Text()) != "vera" {
		t.Errorf("user target shown as %q", strings.Join(strings.Fields(target.Text()), " "))
	}
	if href := target.Find("a").AttrOr("href", ""); href != "/users/42" {
		t.Errorf("user target links to %q", href)
	}
	if d.Find(`td[data-label=From] code`).AttrOr("title", "") != "Firefox" {
		t.Error("the browser is no longer told")
	}
	detailed := plain
	detailed.Details = map[string]any{"role": "Viewer"}
	if renderRow(t, EventRow(p, detailed)).Find(`[data-testid=event-more]`).Length() != 1 {
		t.Error("an event with details offers no More")
	}
}

// renderRow renders a table row inside a table, where HTML lets it be.
func renderRow(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString("<table><tbody>")
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("</tbody></table>")
	d, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCappedCountSaysMoreThan: past the store's cap the list says "more
// than", both in its count and where bulk actions select every match, and
// holds the server to no exact number.
func TestCappedCountSaysMoreThan(t *testing.T) {
	p := Page{User: admin(), Now: now, CSRF: "tok"}
	keys := []store.Key{{ID: "k1", Name: "a"}, {ID: "k2", Name: "b"}}
	for _, tc := range []struct {
		from             int
		params           form.KeyListParams
		count, selectAll string
	}{
		{0, form.KeyListParams{Sort: store.SortName}, "More than 10,000 keys", "Select every matching key (more than 10,000)"},
		{51, form.KeyListParams{Sort: store.SortName, Search: "x"}, "51–52 of more than 10,000 keys match", "Select every matching key (more than 10,000)"},
	} {
		v := KeyList{Params: tc.params, From: tc.from, PerPage: 50, Page: store.KeyPage{Total: store.CountCap, More: true, Keys: keys}}
		d := renderDoc(t, KeyResults(p, v))
		if got := strings.TrimSpace(d.Find(`[data-testid=key-count]`).Text()); got != tc.count {
			t.Errorf("count %q, want %q", got, tc.count)
		}
		if got := strings.TrimSpace(d.Find(`[data-testid=bulk-select-all]`).Text()); got != tc.selectAll {
			t.Errorf("select all %q, want %q", got, tc.selectAll)
		}
		if _, ok := d.Find(`[data-testid=bulk-bar]`).Attr("data-more"); !ok {
			t.Error("the bulk bar does not know the count is a floor")
		}
	}
	// An exact count says its number.
	v := KeyList{Params: form.KeyListParams{Sort: store.SortName}, Page: store.KeyPage{Total: 2, Keys: keys}}
	d := renderDoc(t, KeyResults(p, v))
	if got := strings.TrimSpace(d.Find(`[data-testid=key-count]`).Text()); got != "2 keys" {
		t.Errorf("count %q", got)
	}
	if _, ok := d.Find(`[data-testid=bulk-bar]`).Attr("data-more"); ok {
		t.Error("an exact count is marked as a floor")
	}
}
