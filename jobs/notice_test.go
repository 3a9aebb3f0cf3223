package jobs

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/keydesk/keydesk/internal/testmail"
	"github.com/keydesk/keydesk/notify"
	"github.com/keydesk/keydesk/store"
)

type noticeRig struct {
	t      *testing.T
	st     *store.Store
	clock  *clock
	smtp   *testmail.Server
	mailer *notify.Mailer
	runner *Runner
}

func newNoticeRig(t *testing.T) *noticeRig {
	st, c := openStore(t)
	srv := testmail.Start(t)
	cfg, err := notify.ParseMailConfig(srv.URL(), "keydesk@example.com")
	if err != nil {
		t.Fatal(err)
	}
	m := &notify.Mailer{Config: cfg, ConsoleURL: "https://keys.example.com"}
	r := &Runner{Store: st, Owner: "runner", Jobs: Standard(st, Deps{Owner: "runner", Mailer: m})}
	rig := &noticeRig{t: t, st: st, clock: c, smtp: srv, mailer: m, runner: r}
	ctx := context.Background()
	if _, err := st.CreateUser(ctx, store.SystemActor("test"), store.NewUser{Username: "alice", DisplayName: "Alice", Password: "long enough password", RoleID: store.RoleAdministrator, Email: "alice@example.com"}); err != nil {
		t.Fatal(err)
	}
	rig.run() // the first run starts the notices' window
	return rig
}

func (r *noticeRig) run() []Result {
	r.t.Helper()
	res, err := r.runner.RunDue(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return res
}

// key creates a key expiring in d and returns its id and secret.
func (r *noticeRig) key(name string, d time.Duration) (string, string) {
	r.t.Helper()
	k, secret, err := r.st.CreateKey(context.Background(), store.SystemActor("test"), store.NewKey{
		Name: name, Permissions: []string{"chat"}, Capacity: store.DefaultCapacity, Frequency: store.DefaultFrequency,
		ExpiresAt: r.clock.now().Add(d),
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return k.ID, secret
}

// TestNoticesByEmail: notices due at once reach each person as one email,
// with a text and an HTML part that name the key, its organization, its
// expiry in UTC and relative, and link to it; never its secret.
func TestNoticesByEmail(t *testing.T) {
	r := newNoticeRig(t)
	day := 24 * time.Hour
	id, secret := r.key("billing <b>eu</b>", 7*day+30*time.Minute)
	var secrets []string
	for _, name := range []string{"a", "b", "c", "d"} {
		_, s := r.key("batch-"+name, 3*day+30*time.Minute)
		secrets = append(secrets, s)
	}
	r.clock.add(time.Minute)
	r.run()
	if got := r.smtp.Messages(); len(got) != 0 {
		t.Fatalf("mail before any threshold: %v", got[0].Subject)
	}
	r.clock.add(30 * time.Minute)
	r.run()
	msgs := r.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d emails, want one digest", len(msgs))
	}
	m := msgs[0]
	if m.Subject != "5 notices about API keys" || len(m.To) != 1 || m.To[0] != "alice@example.com" || m.From != "keydesk@example.com" {
		t.Fatalf("subject %q to %v from %q", m.Subject, m.To, m.From)
	}
	for _, want := range []string{
		"The API key “billing <b>eu</b>” expires in 7 days.",
		"Key " + id + " in Default. Expires 2026-12-08 09:30 UTC (in 7 days).",
		"https://keys.example.com/keys/" + id,
		"The API key “batch-c” expires in 3 days.",
		"https://keys.example.com/profile",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("the text part lacks %q:\n%s", want, m.Text)
		}
	}
	if !strings.Contains(m.HTML, "billing &lt;b&gt;eu&lt;/b&gt;") || strings.Contains(m.HTML, "<b>eu</b>") {
		t.Errorf("the HTML part does not escape the key's name:\n%s", m.HTML)
	}
	if !strings.Contains(m.HTML, `href="https://keys.example.com/keys/`+id+`"`) {
		t.Errorf("the HTML part does not link to the key:\n%s", m.HTML)
	}
	for _, s := range append(secrets, secret) {
		if strings.Contains(string(m.Raw), s) || strings.Contains(string(m.Raw), s[len(s)-12:]) {
			t.Fatal("an email holds a secret")
		}
	}
	// Nothing more until the next threshold.
	r.clock.add(time.Hour)
	r.run()
	if n := len(r.smtp.Messages()); n != 1 {
		t.Fatalf("%d emails after an hour more, want still 1", n)
	}
	r.clock.add(2 * day)
	r.run()
	msgs = r.smtp.Messages()
	if len(msgs) != 2 || msgs[1].Subject != "4 notices about API keys" {
		t.Fatalf("the 1-day notices: %d emails, last %q", len(msgs), msgs[len(msgs)-1].Subject)
	}
}

// TestAMailerThatDiedIsReplacedOnce: notices claimed by a sender that
// died before sending are sent once its claim lapses, and only once.
func TestAMailerThatDiedIsReplacedOnce(t *testing.T) {
	r := newNoticeRig(t)
	ctx := context.Background()
	r.key("orphan", 30*24*time.Hour+30*time.Second)
	r.clock.add(time.Minute)
	// The notices job runs, and a process that claimed the mail dies.
	if _, err := r.st.PlanNotices(ctx); err != nil {
		t.Fatal(err)
	}
	if b, err := r.st.ClaimMail(ctx, "dead", DefaultLease, 50); err != nil || len(b) != 1 {
		t.Fatalf("claim: %v, %v", b, err)
	}
	r.run()
	if n := len(r.smtp.Messages()); n != 0 {
		t.Fatal("notices another sender holds were sent")
	}
	r.clock.add(DefaultLease)
	r.run()
	r.clock.add(time.Hour)
	r.run()
	msgs := r.smtp.Messages()
	if len(msgs) != 1 || msgs[0].Subject != "The API key “orphan” expires in 30 days" {
		t.Fatalf("%d emails after the claim lapsed, want the notice once", len(msgs))
	}
}

// TestMailThatFailsIsTriedAgain: a server that cannot be reached records
// the failure and the next try; when it answers, the email goes once.
func TestMailThatFailsIsTriedAgain(t *testing.T) {
	r := newNoticeRig(t)
	good := r.mailer.Config
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().(*net.TCPAddr)
	ln.Close()
	r.mailer.Config.Port = down.Port
	r.key("flaky", 14*24*time.Hour+30*time.Second)
	r.clock.add(time.Minute)
	res := r.run()
	var mailRes Result
	for _, x := range res {
		if x.Job == Mail.Name {
			mailRes = x
		}
	}
	if mailRes.Err == nil || !strings.Contains(mailRes.Summary, "1 email to try again") {
		t.Fatalf("the mail job with the server down: %q, %v", mailRes.Summary, mailRes.Err)
	}
	r.mailer.Config = good
	r.clock.add(30 * time.Second)
	r.run()
	if n := len(r.smtp.Messages()); n != 0 {
		t.Fatal("tried again before the retry delay")
	}
	r.clock.add(time.Minute)
	r.run()
	r.clock.add(time.Hour)
	r.run()
	if n := len(r.smtp.Messages()); n != 1 {
		t.Fatalf("%d emails after the server came back, want 1", n)
	}
}
