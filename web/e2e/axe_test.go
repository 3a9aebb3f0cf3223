package e2e_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAxeFindsViolations proves the accessibility check can fail: a page
// with an image without text and an unlabelled field breaks it.
func TestAxeFindsViolations(t *testing.T) {
	c := newConsole(t)
	c.do(chromedp.Navigate(`data:text/html,<html lang="en"><title>x</title><main><img src="x.png"><input type="text"></main></html>`))
	violations, err := c.seriousViolations()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, v := range violations {
		found[v.ID] = true
	}
	if !found["image-alt"] || !found["label"] {
		t.Fatalf("axe found %v on a broken page", found)
	}
}
