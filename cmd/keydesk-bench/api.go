package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keydesk/keydesk/store"
)

// apiPage is the most keys one answer of the management API's list holds.
const apiPage = 1000

// apiCreates is how many keys the bench makes through the management API.
const apiCreates = 2000

// managementAPI times the management API with an access token of the bench
// user: a page of 1,000 keys, first and further on, and making keys.
func (b *sizeBench) managementAPI(ctx context.Context) error {
	b.progress("the management API")
	token, err := b.token(ctx)
	if err != nil {
		return err
	}
	var next string
	first, err := b.timeAPI(ctx, token, "/api/v1/apikeys?limit="+strconv.Itoa(apiPage), &next)
	if err != nil {
		return err
	}
	if next == "" {
		b.res.add("API: GET /api/v1/apikeys?limit=1000, the one page (ms)", apiListBudget, first)
	} else {
		after, err := b.timeAPI(ctx, token, "/api/v1/apikeys?limit="+strconv.Itoa(apiPage)+"&after="+url.QueryEscape(next), nil)
		if err != nil {
			return err
		}
		b.res.add("API: GET /api/v1/apikeys?limit=1000, first page / the next (ms)", apiListBudget, first, after)
	}

	// Keys made one request after another, then by several clients at
	// once, as a provisioning script that sends requests in parallel does:
	// the throughput that the budget is about.
	for _, clients := range []int{1, apiClients} {
		rate, err := b.createKeys(ctx, token, clients, fmt.Sprintf("api bench %d", clients))
		if err != nil {
			return err
		}
		if clients == 1 {
			b.res.add("API: POST /api/v1/apikeys, one client in turn (keys/s)", noBudget("keys/s"), rate)
		} else {
			b.res.add(fmt.Sprintf("API: POST /api/v1/apikeys, %d clients at once (keys/s)", clients), apiCreateBudget, rate)
		}
	}
	return nil
}

// apiClients is how many clients make keys at once.
const apiClients = 4

// createKeys makes apiCreates keys through the API, split between clients
// sending at once, and returns how many it made a second.
func (b *sizeBench) createKeys(ctx context.Context, token string, clients int, prefix string) (float64, error) {
	errs := make(chan error, clients)
	start := time.Now()
	for c := range clients {
		go func() {
			for i := c; i < apiCreates; i += clients {
				body := fmt.Sprintf(`{"tenant": "*", "name": "%s/%d", "permissions": ["chat"]}`, prefix, i)
				if _, err := b.admin.api(ctx, http.MethodPost, "/api/v1/apikeys", token, body, http.StatusCreated, nil); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range clients {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return apiCreates / time.Since(start).Seconds(), first
}

// token makes an access token with every right of the bench user.
func (b *sizeBench) token(ctx context.Context) (string, error) {
	found, err := b.st.Users(ctx, store.Scope{}, benchUser)
	if err != nil {
		return "", err
	}
	if len(found) == 0 {
		return "", fmt.Errorf("there is no user %s to make a token for", benchUser)
	}
	u := found[0]
	_, token, err := b.st.CreateToken(ctx, store.SystemActor("bench"), u.ID,
		store.NewToken{Name: "bench", Rights: u.Rights, ExpiresAt: time.Now().Add(24 * time.Hour)})
	return token, err
}

// timeAPI returns the median server time of a GET of the API in ms, after
// warm-ups; next, when not nil, gets the answer's "next".
func (b *sizeBench) timeAPI(ctx context.Context, token, path string, next *string) (float64, error) {
	var times []time.Duration
	for i := range b.cfg.warmups + b.cfg.runs {
		var page struct {
			Data []json.RawMessage `json:"data"`
			Next *string           `json:"next"`
		}
		s, err := b.admin.api(ctx, http.MethodGet, path, token, "", http.StatusOK, &page)
		if err != nil {
			return 0, err
		}
		if len(page.Data) == 0 {
			return 0, fmt.Errorf("GET %s: no keys", path)
		}
		if next != nil && page.Next != nil {
			*next = *page.Next
		}
		if i >= b.cfg.warmups {
			times = append(times, s.server)
		}
	}
	return ms(median(times)), nil
}

// api sends a request of the management API with a token, expects the
// status want and decodes the answer into out, when not nil.
func (c *client) api(ctx context.Context, method, path, token, body string, want int, out any) (sample, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.console.url+path, r)
	if err != nil {
		return sample{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	var answer strings.Builder
	s, err := c.send(req, want, &answer)
	if err != nil || out == nil {
		return s, err
	}
	return s, json.Unmarshal([]byte(answer.String()), out)
}
