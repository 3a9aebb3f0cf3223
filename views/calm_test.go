package views

import (
	"strings"
	"testing"

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
