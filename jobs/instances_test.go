package jobs

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/keydesk/keydesk/internal/pgtest"
	"github.com/keydesk/keydesk/internal/testmail"
	"github.com/keydesk/keydesk/notify"
	"github.com/keydesk/keydesk/store"
)

// TestInstancesSendEachNoticeOnce: two instances on one PostgreSQL
// database run their jobs at the same moment, every minute, as their
// runners do: each job runs once a minute between them, and each of 30
// people gets each notice once.
func TestInstancesSendEachNoticeOnce(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	smtp := testmail.Start(t)
	cfg, err := notify.ParseMailConfig(smtp.URL(), "keydesk@example.com")
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	var runners [2]*Runner
	for i := range runners {
		st, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		st.Now = c.now
		owner := fmt.Sprintf("instance-%d", i)
		mailer := &notify.Mailer{Config: cfg, ConsoleURL: "https://keys.example.com"}
		runners[i] = &Runner{Store: st, Owner: owner, Jobs: Standard(st, Deps{Owner: owner, Mailer: mailer})}
	}
	st := runners[0].Store
	const people = 30
	for i := range people {
		if _, err := st.CreateUser(ctx, store.SystemActor("test"), store.NewUser{Username: fmt.Sprintf("admin%02d", i),
			Password: "long enough password", RoleID: store.RoleAdministrator, Email: fmt.Sprintf("admin%02d@example.com", i)}); err != nil {
			t.Fatal(err)
		}
	}
	// Both at once, each minute: every due job runs once between them.
	runBoth := func() {
		t.Helper()
		var results [2][]Result
		var wg sync.WaitGroup
		for i, r := range runners {
			wg.Go(func() {
				res, err := r.RunDue(ctx)
				if err != nil {
					t.Error(err)
				}
				results[i] = res
			})
		}
		wg.Wait()
		ran := map[string]int{}
		for _, res := range results {
			for _, x := range res {
				if x.Err != nil {
					t.Errorf("%s: %v", x.Job, x.Err)
				}
				ran[x.Job]++
			}
		}
		for _, j := range []string{Notices.Name, Mail.Name, Webhooks.Name} {
			if ran[j] != 1 {
				t.Fatalf("at %v, %s ran %d times between the two instances", c.now(), j, ran[j])
			}
		}
	}
	runBoth() // starts the notices' window
	if _, _, err := st.CreateKey(ctx, store.SystemActor("test"), store.NewKey{Name: "billing", Permissions: []string{"chat"},
		Capacity: store.DefaultCapacity, Frequency: store.DefaultFrequency, ExpiresAt: c.now().Add(7*24*time.Hour + 3*time.Minute)}); err != nil {
		t.Fatal(err)
	}
	for range 6 {
		c.add(time.Minute)
		runBoth()
	}
	got := map[string]int{}
	for _, m := range smtp.Messages() {
		if m.Subject != "The API key “billing” expires in 7 days" || len(m.To) != 1 {
			t.Fatalf("an email about %q to %v", m.Subject, m.To)
		}
		got[m.To[0]]++
	}
	for i := range people {
		if to := fmt.Sprintf("admin%02d@example.com", i); got[to] != 1 {
			t.Errorf("%s got the notice %d times", to, got[to])
		}
	}
}
