package web

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// TestKeyUsageChart: a key's page charts its last 14 days of
// verifications by outcome as an SVG that parses as XML, with the same
// figures in a table and in words; yesterday's and today's counts land
// on their own days.
func TestKeyUsageChart(t *testing.T) {
	tc := newTestConsole(t)
	admin := tc.loggedIn("admin")
	k, secret := tc.createKeyWithSecret("charted")
	d := admin.get("/keys/" + k.ID).doc()
	if d.Find("[data-testid=usage-none]").Length() != 1 || d.Find("[data-testid=usage-chart]").Length() != 0 {
		t.Fatal("a key never used shows a chart")
	}
	verify := func(n int, perm string) {
		for range n {
			if _, err := tc.store.VerifyKey(t.Context(), secret, perm, ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := tc.store.FlushUsage(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	tc.clock.now = tc.clock.now.Add(-24 * time.Hour)
	verify(7, "")
	tc.clock.now = tc.clock.now.Add(24 * time.Hour)
	verify(3, "")
	verify(2, "not-its-permission")

	d = admin.get("/keys/" + k.ID).doc()
	if got := d.Find("[data-testid=usage-total]").Text(); got != "12 verifications: 10 valid, 0 rate limited, 2 refused." {
		t.Fatalf("the total says %q", got)
	}
	rows := d.Find("[data-testid=usage-table] tbody tr")
	if rows.Length() != 14 {
		t.Fatalf("%d days in the table", rows.Length())
	}
	cells := func(i int) string {
		var out []string
		rows.Eq(i).Find("td").Each(func(_ int, c *goquery.Selection) { out = append(out, c.Text()) })
		return strings.Join(out, " ")
	}
	if cells(12) != "7 0 0" || cells(13) != "3 0 2" || cells(11) != "0 0 0" {
		t.Fatalf("yesterday %q, today %q, the day before %q", cells(12), cells(13), cells(11))
	}
	svg, _ := goquery.OuterHtml(d.Find("[data-testid=usage-chart]"))
	dec := xml.NewDecoder(strings.NewReader(svg))
	dec.Strict = true
	rects := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the chart is not well-formed: %v\n%s", err, svg)
		}
		if s, ok := tok.(xml.StartElement); ok && s.Name.Local == "rect" {
			for _, a := range s.Attr {
				if a.Name.Local == "class" && strings.HasPrefix(a.Value, "use-") && !strings.HasSuffix(a.Value, "-bg") {
					rects++
				}
			}
		}
	}
	if rects != 3 { // yesterday's valid; today's valid and refused
		t.Fatalf("%d bar parts, want 3", rects)
	}
}

// TestUsageColumn: the key list shows each key's valid verifications of
// the last 24 hours beside a line of the last 36, sorts by them, and the
// CSV has them.
func TestUsageColumn(t *testing.T) {
	tc := newTestConsole(t)
	admin := tc.loggedIn("admin")
	busy, secret := tc.createKeyWithSecret("b-busy")
	tc.createKeyWithSecret("a-idle")
	for range 9 {
		if _, err := tc.store.VerifyKey(t.Context(), secret, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := tc.store.FlushUsage(t.Context()); err != nil {
		t.Fatal(err)
	}
	d := admin.get("/keys?sort=uses_24h&dir=desc").doc()
	first := d.Find("[data-testid=key-row]").First()
	if first.AttrOr("data-key-id", "") != busy.ID || first.Find("[data-testid=uses-24h]").Text() != "9" {
		t.Fatalf("sorted by the last 24 hours, the first row is %q with %q", first.AttrOr("data-key-id", ""), first.Find("[data-testid=uses-24h]").Text())
	}
	points := strings.Fields(first.Find("[data-testid=sparkline] polyline").AttrOr("points", ""))
	if len(points) != 36 || !strings.HasSuffix(points[35], ",1.0") {
		t.Fatalf("the sparkline has %d points, the last %v: want 36, this hour at the top", len(points), points)
	}
	res := admin.get("/keys/export.csv?sort=uses_24h&dir=desc")
	if !strings.Contains(res.Body.String(), busy.ID+",b-busy,") || !strings.Contains(strings.SplitN(res.Body.String(), "\r\n", 3)[1], ",9") {
		t.Fatalf("the CSV's first row: %q", strings.SplitN(res.Body.String(), "\r\n", 3)[1])
	}
}
