// Package testmail is an SMTP server for tests: it accepts every message on
// a loopback port (go-smtp) and keeps it, parsed, for the test to read.
package testmail

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one message received.
type Message struct {
	From    string
	To      []string
	Subject string
	Text    string // the text/plain part
	HTML    string // the text/html part
	Raw     []byte
}

// Server receives mail.
type Server struct {
	Addr string // host:port
	mu   sync.Mutex
	msgs []Message
	// Delay holds each MAIL command this long before answering: a test
	// can stop a sender between its claim and its send.
	delay time.Duration
}

// Start starts a server that lives as long as the test.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String()}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// URL is the server's KEYDESK_SMTP_URL.
func (s *Server) URL() string { return "smtp://" + s.Addr + "?tls=none" }

// SetDelay makes every MAIL command wait d.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// Messages returns what was received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.s.mu.Lock()
	d := x.s.delay
	x.s.mu.Unlock()
	time.Sleep(d)
	x.from = from
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		return err
	}
	m.From, m.To = x.from, x.to
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, m)
	x.s.mu.Unlock()
	return nil
}

// parse reads a message's subject and its text and HTML parts.
func parse(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Message{}, err
	}
	m := Message{Subject: subject, Raw: raw}
	media, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return Message{}, err
	}
	if !strings.HasPrefix(media, "multipart/") {
		return Message{}, errors.New("not a multipart message: " + media)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			return m, nil
		}
		if err != nil {
			return Message{}, err
		}
		body, err := io.ReadAll(p)
		if err != nil {
			return Message{}, err
		}
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			m.Text = string(body)
		case "text/html":
			m.HTML = string(body)
		}
	}
}
