// Package notify sends what the jobs decided to send: notices by email
// (SMTP, through go-mail) and events to webhooks (signed per Standard
// Webhooks). It knows the store's records, not how they were chosen.
package notify

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/keydesk/keydesk/store"
)

// MailConfig is how to send email: KEYDESK_SMTP_URL and KEYDESK_MAIL_FROM.
type MailConfig struct {
	Host     string
	Port     int
	Username string
	Password string
	// TLS: "starttls" (the default: the server must offer it), "tls"
	// (smtps://, TLS from the first byte) or "none".
	TLS  string
	From string
}

// ParseMailConfig reads an SMTP URL, smtp://user:pass@host:port (STARTTLS
// required; ?tls=none for a local relay without it) or smtps://… (TLS
// from the start), and the sender's address.
func ParseMailConfig(rawURL, from string) (MailConfig, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return MailConfig{}, errors.New("KEYDESK_SMTP_URL: give an URL such as smtp://user:password@mail.example.com:587")
	}
	c := MailConfig{Host: u.Hostname(), TLS: "starttls", From: from}
	switch u.Scheme {
	case "smtp":
		c.Port = 587
	case "smtps":
		c.Port, c.TLS = 465, "tls"
	default:
		return MailConfig{}, fmt.Errorf("KEYDESK_SMTP_URL: the scheme is smtp or smtps, not %q", u.Scheme)
	}
	if p := u.Port(); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil || c.Port < 1 || c.Port > 65535 {
			return MailConfig{}, fmt.Errorf("KEYDESK_SMTP_URL: %q is not a port", p)
		}
	}
	switch tls := u.Query().Get("tls"); tls {
	case "":
	case "none", "starttls", "tls":
		c.TLS = tls
	default:
		return MailConfig{}, fmt.Errorf("KEYDESK_SMTP_URL: tls is none, starttls or tls, not %q", tls)
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if c.From == "" {
		return MailConfig{}, errors.New("KEYDESK_MAIL_FROM: give the address notices come from, such as keydesk@example.com")
	}
	if _, err := netmail.ParseAddress(c.From); err != nil {
		return MailConfig{}, fmt.Errorf("KEYDESK_MAIL_FROM: %q is not an email address", c.From)
	}
	return c, nil
}

// Mailer sends notices by email.
type Mailer struct {
	Config MailConfig
	// ConsoleURL is where the console is, for links to keys
	// ("https://keys.example.com").
	ConsoleURL string
}

// client connects to the SMTP server for one batch of mail.
func (m *Mailer) client() (*mail.Client, error) {
	c := m.Config
	opts := []mail.Option{mail.WithPort(c.Port), mail.WithTimeout(30 * time.Second)}
	switch c.TLS {
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case "tls":
		opts = append(opts, mail.WithSSL())
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if c.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(c.Username), mail.WithPassword(c.Password))
	}
	return mail.NewClient(c.Host, opts...)
}

// Send sends one user the notices of b in one email: a notice by itself,
// or several listed in one digest.
func (m *Mailer) Send(ctx context.Context, b store.MailBatch, now time.Time) error {
	msg, err := m.Message(b, now)
	if err != nil {
		return err
	}
	c, err := m.client()
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, msg)
}

// Message writes the email of b, with a plain text and an HTML part.
func (m *Mailer) Message(b store.MailBatch, now time.Time) (*mail.Msg, error) {
	msg := mail.NewMsg()
	if err := msg.From(m.Config.From); err != nil {
		return nil, fmt.Errorf("KEYDESK_MAIL_FROM: %w", err)
	}
	to := b.Email
	if err := msg.To(to); err != nil {
		return nil, fmt.Errorf("the address of %s: %w", b.Username, err)
	}
	items := make([]mailItem, len(b.Notices))
	for i, n := range b.Notices {
		items[i] = mailItem{Headline: Headline(n, now), Detail: detail(n, now), Link: m.keyURL(n.KeyID)}
	}
	subject := items[0].Headline
	if len(items) > 1 {
		subject = fmt.Sprintf("%d notices about API keys", len(items))
	}
	msg.Subject(subject)
	msg.SetDate()
	msg.SetMessageID()
	data := mailData{Name: cmp.Or(b.DisplayName, b.Username), Items: items, Digest: len(items) > 1, Profile: m.link("/profile")}
	var text, html bytes.Buffer
	if err := textMail.Execute(&text, data); err != nil {
		return nil, err
	}
	if err := htmlMail.Execute(&html, data); err != nil {
		return nil, err
	}
	msg.SetBodyString(mail.TypeTextPlain, text.String())
	msg.AddAlternativeString(mail.TypeTextHTML, html.String())
	return msg, nil
}

// link is the address of a page of the console.
func (m *Mailer) link(path string) string { return strings.TrimRight(m.ConsoleURL, "/") + path }

func (m *Mailer) keyURL(id string) string { return m.link("/keys/" + url.PathEscape(id)) }

type mailItem struct{ Headline, Detail, Link string }

type mailData struct {
	Name    string
	Items   []mailItem
	Digest  bool
	Profile string
}

// Headline says what a notice is about in one line.
func Headline(n store.Notice, now time.Time) string {
	name := "“" + n.KeyName + "”"
	switch n.Kind {
	case store.NoticeExpiring:
		if n.Days == 0 {
			return "The API key " + name + " has expired"
		}
		return "The API key " + name + " expires in " + daysLeft(n)
	case store.NoticeRotationDue:
		return "The API key " + name + " is rotated on its schedule in " + daysLeft(n)
	case store.NoticeGraceEnding:
		return "The previous secret of the API key " + name + " stops working in " + daysLeft(n)
	case store.NoticeRotated:
		return "The API key " + name + " was rotated"
	case store.NoticeUsageSpike:
		return "The API key " + name + " was verified " + store.Plural(int(n.Figure), "time", "times") + " in an hour, far above its usual"
	}
	return "A notice about the API key " + name
}

// daysLeft says how long was left when the notice was raised.
func daysLeft(n store.Notice) string {
	if d := n.DaysLeft(); d > 0 {
		return store.Plural(d, "day", "days")
	}
	return "less than a day"
}

// detail gives the notice's key, organization and time, in UTC and
// relative to now.
func detail(n store.Notice, now time.Time) string {
	when := n.DueFor.UTC().Format("2006-01-02 15:04 UTC")
	var what string
	switch n.Kind {
	case store.NoticeExpiring:
		what = "Expires " + when
		if n.Days == 0 {
			what = "Expired " + when
		}
	case store.NoticeRotationDue:
		what = "Rotation due " + when
	case store.NoticeGraceEnding:
		what = "The previous secret stops working " + when
	case store.NoticeRotated:
		what = "Rotated " + when
	case store.NoticeUsageSpike:
		what = store.Plural(int(n.Figure), "verification", "verifications") + " in the hour from " + when +
			", against about " + store.Thousands(int(n.Usual)) + " an hour over the week before"
	}
	if rel := store.Relative(n.DueFor, now); rel != "" {
		what += " (" + rel + ")"
	}
	org := n.OrgPath
	if org == "" {
		org = n.OrgID
	}
	return fmt.Sprintf("Key %s in %s. %s.", n.KeyID, org, what)
}

var textMail = must(texttemplate.New("text").Parse(`Hello {{.Name}},
{{if .Digest}}
Here are {{len .Items}} notices about API keys you look after.
{{end}}{{range .Items}}
{{.Headline}}.
{{.Detail}}
{{.Link}}
{{end}}
You get these notices because you may change these keys, or created them.
Choose which notices you get on your profile: {{.Profile}}
`))

var htmlMail = must(template.New("html").Parse(`<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.5">
<p>Hello {{.Name}},</p>
{{if .Digest}}<p>Here are {{len .Items}} notices about API keys you look after.</p>{{end}}
<ul>
{{range .Items}}<li><p><strong>{{.Headline}}.</strong><br>{{.Detail}}<br><a href="{{.Link}}">Open the key</a></p></li>
{{end}}</ul>
<p style="color: #555">You get these notices because you may change these keys, or created them.
<a href="{{.Profile}}">Choose which notices you get</a>.</p>
</body></html>
`))

// must panics on a template that does not parse: they are constants.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
