package web

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/server/outbox"
)

// mailServer is a deliverer that refuses until told to accept, naming
// the address as a mail server does.
type mailServer struct{ accept atomic.Bool }

func (m *mailServer) Deliver(_ context.Context, n notice.Notice) error {
	if !m.accept.Load() {
		return outbox.Permanent(errors.New("550 5.1.1 <" + n.Contact + ">: mailbox unavailable"))
	}
	return nil
}

// outboxWithAFailure is an outbox in e's data directory holding a
// failed e-mail and an SMS with no channel.
func outboxWithAFailure(t *testing.T, e *env) *outbox.Outbox {
	t.Helper()
	ob, err := outbox.Open(outbox.Options{Path: filepath.Join(e.dataDir, "outbox.db"), Email: &mailServer{}, Clock: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close() })
	for _, contact := range []string{"jan.kowalski@example.pl", "+48 500 600 123"} {
		if err := ob.Send(context.Background(), notice.Notice{Kind: notice.Booked, Office: e.office.ID, Lang: "pl", Contact: contact, Booking: "K7M2X9P4", Key: contact}); err != nil {
			t.Fatal(err)
		}
	}
	waitfor.Until(t, "the e-mail failed", 5*time.Second, func() bool {
		es, _ := ob.Recent(5, func(string) bool { return true })
		return len(es) == 2 && es[1].State == outbox.Failed
	})
	return ob
}

// An office's admin sees its messages (masked) and can retry a failed
// one; a clerk cannot open the page; another office's messages are not
// listed.
func TestOutboxPage(t *testing.T) {
	e := newEnv(t)
	mail := &mailServer{}
	ob, err := outbox.Open(outbox.Options{Path: filepath.Join(e.dataDir, "outbox.db"), Email: mail, Clock: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	e.web.Outbox = ob
	send := func(office, contact, key string) {
		t.Helper()
		if err := ob.Send(context.Background(), notice.Notice{Kind: notice.Booked, Office: office, Lang: "pl", Contact: contact, Booking: "K7M2X9P4", Key: key}); err != nil {
			t.Fatal(err)
		}
	}
	send(e.office.ID, "jan.kowalski@example.pl", "a")
	send(e.office.ID, "+48 500 600 123", "b")
	send("czestochowa-other", "ewa@example.pl", "c")
	waitfor.Until(t, "the e-mail failed", 5*time.Second, func() bool {
		es, _ := ob.Recent(5, func(string) bool { return true })
		return len(es) == 3 && es[2].State == outbox.Failed
	})

	clerk := e.browser()
	clerk.login("anna", "correct horse battery")
	if clerk.get("/staff/admin/messages"); clerk.status != http.StatusForbidden {
		t.Errorf("a clerk opening the messages: %d, want 403", clerk.status)
	}
	admin := e.browser()
	admin.login("kierownik", "correct horse battery")
	page := html.UnescapeString(admin.get("/staff/admin/messages?lang=en"))
	if admin.status != http.StatusOK {
		t.Fatalf("messages page: %d\n%s", admin.status, page)
	}
	for _, want := range []string{"j***@e***.pl", "+48 *** *** 123", "Booking confirmed", "Failed", "No channel configured", "550 5.1.1", "1 message could not be delivered", "Retry now"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, secret := range []string{"kowalski", "500 600 123", "ewa@", "e***@e***.pl"} {
		if strings.Contains(page, secret) {
			t.Errorf("the page shows %q", secret)
		}
	}
	id := regexp.MustCompile(`name="id" value="(\d+)"`).FindStringSubmatch(page)
	if id == nil {
		t.Fatal("no retry form")
	}
	mail.accept.Store(true)
	if st, page := admin.post("/staff/admin/messages/retry", url.Values{"id": {id[1]}}); st != http.StatusOK || !strings.Contains(page, "will be sent again") {
		t.Fatalf("retry: %d\n%s", st, page)
	}
	waitfor.Until(t, "the retried message sent", 5*time.Second, func() bool {
		return strings.Contains(admin.get("/staff/admin/messages?lang=en"), ">Sent<")
	})
	if _, page := admin.post("/staff/admin/messages/retry", url.Values{"id": {id[1]}}); !strings.Contains(page, "cannot be retried") {
		t.Error("a sent message was retried again")
	}
	if strings.Contains(e.logs.String(), "kowalski") {
		t.Error("the server's log holds the contact")
	}
}

// Without [messages] the page says how to turn them on.
func TestOutboxPageWhenNotConfigured(t *testing.T) {
	e := newEnv(t)
	admin := e.browser()
	admin.login("kierownik", "correct horse battery")
	if page := admin.get("/staff/admin/messages?lang=en"); admin.status != http.StatusOK || !strings.Contains(page, "add [messages]") {
		t.Errorf("%d\n%s", admin.status, page)
	}
}
