package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// client is a person logged in to the console, as a browser would be: a
// cookie jar and the CSRF token of the pages. It follows no redirect, so
// that every request is timed alone. Like a browser it asks for gzip.
type client struct {
	console *console
	http    *http.Client
	csrf    string
}

// A sample is the time of one request on the server and as the client saw
// it, and the bytes of its answer (after decompression).
type sample struct {
	server, wall time.Duration
	bytes        int64
}

// requests numbers the requests of this process, for serverTimes.
var requests atomic.Int64

// logIn logs in like a browser: the login page for its CSRF token, then
// the form.
func logIn(ctx context.Context, con *console, username, password string) (*client, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	c := &client{console: con, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	doc, err := c.page(ctx, "/login")
	if err != nil {
		return nil, err
	}
	form := url.Values{"username": {username}, "password": {password}, "_csrf": {csrfToken(doc)}}
	if _, err := c.post(ctx, "/login", form); err != nil {
		return nil, fmt.Errorf("log in as %s: %w", username, err)
	}
	// The forms posted later carry the token of the session's pages.
	if doc, err = c.page(ctx, "/keys"); err != nil {
		return nil, err
	}
	c.csrf = csrfToken(doc)
	return c, nil
}

func csrfToken(doc *goquery.Document) string {
	return doc.Find(`meta[name="csrf-token"]`).AttrOr("content", "")
}

// get loads a page, whole or as the partial that htmx asks for, and
// expects 200.
func (c *client) get(ctx context.Context, path string, htmx bool) (sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.console.url+path, nil)
	if err != nil {
		return sample{}, err
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	return c.send(req, http.StatusOK, io.Discard)
}

// page loads a full page, untimed, for what it shows.
func (c *client) page(ctx context.Context, path string) (*goquery.Document, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.console.url+path, nil)
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	if _, err := c.send(req, http.StatusOK, &body); err != nil {
		return nil, err
	}
	return goquery.NewDocumentFromReader(&body)
}

// post submits a form with the session's CSRF token, and expects the
// redirect that follows a change (post/redirect/get).
func (c *client) post(ctx context.Context, path string, form url.Values) (sample, error) {
	if c.csrf != "" {
		form.Set("_csrf", c.csrf)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.console.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		return sample{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.send(req, http.StatusSeeOther, io.Discard)
}

// send makes one request, reads its answer into body and collects its
// server time.
func (c *client) send(req *http.Request, want int, body io.Writer) (sample, error) {
	id := strconv.FormatInt(requests.Add(1), 10)
	req.Header.Set(requestIDHeader, id)
	start := time.Now()
	res, err := c.http.Do(req)
	if err != nil {
		return sample{}, err
	}
	defer res.Body.Close()
	if res.StatusCode != want {
		text, _ := io.ReadAll(io.LimitReader(res.Body, 2048))
		c.console.times.took(id) // not to leave its slot behind
		return sample{}, fmt.Errorf("%s %s: status %d, want %d: %s", req.Method, req.URL.RequestURI(), res.StatusCode, want, pageText(text))
	}
	n, err := io.Copy(body, res.Body)
	if err != nil {
		return sample{}, err
	}
	s := sample{wall: time.Since(start), bytes: n}
	s.server, err = c.console.times.took(id)
	return s, err
}

// pageText is the readable text of an error page, shortened.
func pageText(html []byte) string {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(html))
	if err != nil {
		return string(html)
	}
	text := strings.Join(strings.Fields(doc.Find("main").Text()), " ")
	if text == "" {
		text = strings.Join(strings.Fields(doc.Text()), " ")
	}
	if len(text) > 300 {
		text = text[:300] + "…"
	}
	return text
}
