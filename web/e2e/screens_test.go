package e2e_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

func TestScreens(t *testing.T) {
	c := newConsole(t)
	c.login("admin", adminPassword)
	c.do(chromedp.Navigate(c.url+"/keys"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=empty-state]`)))
	c.screenshot("empty")
	c.seed(120)
	c.do(chromedp.Navigate(c.url+"/keys"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-table]`)))
	c.screenshot("list")
	c.do(chromedp.Navigate(c.url+"/keys/new"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=key-form]`)))
	c.screenshot("new")
}
