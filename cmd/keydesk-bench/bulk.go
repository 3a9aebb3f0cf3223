package main

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keydesk/keydesk/store"
)

// bulk revokes, then deletes, the keys of an organization of their own
// (b.cfg.bulk of them, seeded for it) through the list's "every matching
// key" selection, while another administrator loads pages in a loop. It
// changes the data: it runs last.
func (b *sizeBench) bulk(ctx context.Context, password string) error {
	n := b.cfg.bulk
	b.progress("bulk actions: seeding %s keys to change", thousands(n))
	org, err := b.st.CreateOrg(ctx, store.SystemActor("bench"), "bench-bulk", b.orgs.root.ID)
	if err != nil {
		return err
	}
	if err := b.st.SeedKeys(ctx, n, mrand.New(mrand.NewPCG(3, 4)), org); err != nil {
		return err
	}
	other, err := logIn(ctx, b.con, otherUser, password)
	if err != nil {
		return err
	}
	for _, action := range []string{"revoke", "delete"} {
		b.progress("bulk %s of %s keys", action, thousands(n))
		form := url.Values{"action": {action}, "all": {"1"}, "org": {org.ID}, "expected": {strconv.Itoa(n)}}
		stop := loadPages(ctx, other)
		s, err := b.admin.post(ctx, "/keys/bulk", form)
		pages, perr := stop()
		if err != nil {
			return err
		}
		if perr != nil {
			return fmt.Errorf("pages loaded during the bulk %s: %w", action, perr)
		}
		b.res.add(fmt.Sprintf("bulk %s of %s keys (s)", action, thousands(n)), bulkBudget, s.wall.Seconds())
		walls := make([]time.Duration, len(pages))
		for i, p := range pages {
			walls[i] = p.wall
		}
		b.res.add(fmt.Sprintf("another user's pages during the bulk %s (p50 / max, ms)", action), othersPageBudget,
			ms(percentile(walls, 50)), ms(percentile(walls, 100)))
		said, err := b.flash(ctx)
		if err != nil {
			return err
		}
		b.res.note("bulk %s: %q; another user loaded %d pages meanwhile", action, said, len(pages))
	}
	return nil
}

// flash is what the console said after the last change, on the next page.
func (b *sizeBench) flash(ctx context.Context) (string, error) {
	doc, err := b.admin.page(ctx, "/keys")
	if err != nil {
		return "", err
	}
	return strings.Join(strings.Fields(doc.Find(`[data-testid="flash"]`).Text()), " "), nil
}

// otherPages are what the other administrator loads, whole, in turn.
var otherPages = []string{"/keys", "/keys?status=available", "/keys?q=" + commonSearch, "/keys?status=soon&permission=securemail"}

// loadPages loads otherPages in a loop, one after the other, until the
// returned function is called; it returns every page's times. At least one
// page is loaded.
func loadPages(ctx context.Context, c *client) (stop func() ([]sample, error)) {
	done := make(chan struct{})
	type outcome struct {
		pages []sample
		err   error
	}
	out := make(chan outcome, 1)
	go func() {
		var o outcome
		for i := 0; ; i++ {
			s, err := c.get(ctx, otherPages[i%len(otherPages)], false)
			if err != nil {
				o.err = err
				break
			}
			o.pages = append(o.pages, s)
			select {
			case <-done:
				out <- o
				return
			default:
			}
		}
		<-done
		out <- o
	}()
	return func() ([]sample, error) {
		close(done)
		o := <-out
		return o.pages, o.err
	}
}
