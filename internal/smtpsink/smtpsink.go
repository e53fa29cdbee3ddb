// Package smtpsink is a real SMTP server for tests (emersion/go-smtp on
// loopback) that keeps every message it is sent, optionally with STARTTLS
// and AUTH PLAIN, and refuses recipients when told to.
package smtpsink

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the server took.
type Message struct {
	From string
	To   []string
	Data []byte
	// At is when its DATA had been read.
	At time.Time
}

// Sink is the running server.
type Sink struct {
	Addr string
	mu   sync.Mutex
	got  []Message
	// refuse is answered to RCPT while set.
	refuse *smtp.SMTPError
	// user and pass, when set, are required (AUTH PLAIN).
	user, pass string
	onData     func(Message)
}

// Options are the server's optional parts.
type Options struct {
	// TLS, when set, is offered through STARTTLS.
	TLS *tls.Config
	// User and Password, when set, are required before MAIL.
	User, Password string
	// OnData is called with each message as its DATA has been read.
	OnData func(Message)
}

// Start serves SMTP on addr ("127.0.0.1:0" for any free port) until the
// test ends.
func Start(t testing.TB, addr string, opts Options) *Sink {
	t.Helper()
	s, stop, err := Serve(addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return s
}

// Serve is Start for code that has no testing.TB (a displaytest child
// process): it serves until stop is called.
func Serve(addr string, opts Options) (s *Sink, stop func(), err error) {
	s = &Sink{user: opts.User, pass: opts.Password, onData: opts.OnData}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = opts.TLS == nil
	srv.TLSConfig = opts.TLS
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listening for SMTP: %w", err)
	}
	s.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	return s, func() { _ = srv.Close() }, nil
}

// Port is the port the server listens on.
func (s *Sink) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Messages are the messages taken so far.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.got...)
}

// Refuse makes RCPT answer e (nil: accept again).
func (s *Sink) Refuse(e *smtp.SMTPError) {
	s.mu.Lock()
	s.refuse = e
	s.mu.Unlock()
}

type session struct {
	s      *Sink
	msg    Message
	authed bool
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.s.user || pass != ss.s.pass {
			return errors.New("invalid credentials")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.user != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.msg.From = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	refuse := ss.s.refuse
	ss.s.mu.Unlock()
	if refuse != nil {
		return refuse
	}
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.msg.Data, ss.msg.At = data, time.Now()
	ss.s.mu.Lock()
	ss.s.got = append(ss.s.got, ss.msg)
	ss.s.mu.Unlock()
	if ss.s.onData != nil {
		ss.s.onData(ss.msg)
	}
	ss.msg = Message{}
	return nil
}

func (ss *session) Reset()        { ss.msg = Message{} }
func (ss *session) Logout() error { return nil }
