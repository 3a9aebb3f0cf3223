package web

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestPagerSaysWhereYouAre walks a list of 120 keys by its pager: every
// page says which keys it shows of how many, and First, Previous, Next and
// Last lead where they say, with and without htmx.
func TestPagerSaysWhereYouAre(t *testing.T) {
	tc := newTestConsole(t)
	for i := 1; i <= 120; i++ {
		tc.createKey(fmt.Sprintf("page-%03d", i))
	}
	cl := tc.loggedIn("admin")
	type view struct{ count, first string }
	look := func(path string, htmx bool) (view, response) {
		t.Helper()
		var res response
		if htmx {
			res = cl.htmx(path)
		} else {
			res = cl.get(path)
		}
		wantStatus(t, res, http.StatusOK)
		return view{res.testid("key-count"), res.doc().Find(`[data-testid=key-table] tbody tr`).First().Find("a[href^='/keys/']").First().Text()}, res
	}
	link := func(res response, testid string) string {
		t.Helper()
		href, ok := res.doc().Find(`[data-testid=` + testid + `]`).Attr("href")
		if !ok {
			t.Fatalf("no %s link", testid)
		}
		return href
	}
	for _, htmx := range []bool{false, true} {
		v, res := look("/keys", htmx)
		if v.count != "1–50 of 120 keys" || v.first != "page-001" {
			t.Fatalf("first page: %+v", v)
		}
		if res.doc().Find(`[data-testid=first-page], [data-testid=prev-page]`).Length() != 0 {
			t.Fatal("the first page links to pages before it")
		}
		v, res = look(link(res, "next-page"), htmx)
		if v.count != "51–100 of 120 keys" || v.first != "page-051" {
			t.Fatalf("second page: %+v", v)
		}
		v, res = look(link(res, "last-page"), htmx)
		// The last page is the last 50 keys.
		if v.count != "71–120 of 120 keys" || v.first != "page-071" {
			t.Fatalf("last page: %+v", v)
		}
		if res.doc().Find(`[data-testid=next-page], [data-testid=last-page]`).Length() != 0 {
			t.Fatal("the last page links to pages after it")
		}
		v, res = look(link(res, "prev-page"), htmx)
		if v.count != "21–70 of 120 keys" || v.first != "page-021" {
			t.Fatalf("back from the last page: %+v", v)
		}
		v, _ = look(link(res, "first-page"), htmx)
		if v.count != "1–50 of 120 keys" || v.first != "page-001" {
			t.Fatalf("first again: %+v", v)
		}
	}
	// A list that fits one page needs no position.
	v, _ := look("/keys?q=page-1&last=1", false)
	if strings.Contains(v.count, "–") || !strings.HasSuffix(v.count, " keys match") {
		t.Fatalf("filtered last page: %+v", v)
	}
	for _, bad := range []string{"/keys?at=0&after=x", "/keys?at=abc", "/keys?last=yes", "/keys?last=1&after=x"} {
		wantStatus(t, cl.get(bad), http.StatusBadRequest)
	}
}
