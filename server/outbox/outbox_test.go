package outbox

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	bolt "go.etcd.io/bbolt"

	"github.com/numerek/numerek/internal/smtpsink"
	"github.com/numerek/numerek/internal/testclock"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/store/kv"
)

func all(string) bool { return true }

func entryOf(t *testing.T, ob *Outbox) Entry {
	t.Helper()
	es, err := ob.Recent(10, all)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 {
		t.Fatalf("%d messages in the outbox, want 1", len(es))
	}
	return es[0]
}

// The SMTP server is down when the booking is made: Send returns at once,
// the outbox retries, and the message arrives once the server is up.
func TestSMTPDownThenUp(t *testing.T) {
	port := freePort(t)
	ob := openTest(t, t.TempDir(), Options{Email: NewMailer(emailConfig(port), testComposer())})
	defer ob.Close()
	start := time.Now()
	if err := ob.Send(context.Background(), bookedNotice("pl", "jan@example.pl")); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Send waited %v for a server that is down", d)
	}
	waitfor.Until(t, "two failed attempts", 5*time.Second, func() bool {
		es, _ := ob.Recent(1, all)
		return len(es) == 1 && es[0].Attempts >= 2 && es[0].State == Pending && es[0].LastError != ""
	})
	sink := smtpsink.Start(t, fmt.Sprintf("127.0.0.1:%d", port), smtpsink.Options{})
	waitfor.Until(t, "the e-mail delivered once the server is up", 5*time.Second, func() bool { return len(sink.Messages()) == 1 })
	waitfor.Until(t, "the message marked sent", 5*time.Second, func() bool { return entryOf(t, ob).State == Sent })
}

// A message still pending when the server stops is delivered after the
// restart, from the file.
func TestRestartResumesPendingMessages(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	opts := Options{Email: NewMailer(emailConfig(port), testComposer())}
	ob := openTest(t, dir, opts)
	for _, lang := range []string{"pl", "en"} {
		if err := ob.Send(context.Background(), bookedNotice(lang, "jan@example.pl")); err != nil {
			t.Fatal(err)
		}
	}
	waitfor.Until(t, "an attempt that failed", 5*time.Second, func() bool {
		es, _ := ob.Recent(5, all)
		return len(es) == 2 && es[0].Attempts >= 1
	})
	if err := ob.Close(); err != nil {
		t.Fatal(err)
	}
	sink := smtpsink.Start(t, fmt.Sprintf("127.0.0.1:%d", port), smtpsink.Options{})
	ob = openTest(t, dir, opts)
	defer ob.Close()
	waitfor.Until(t, "both e-mails delivered after the restart", 5*time.Second, func() bool { return len(sink.Messages()) == 2 })
	// And a notice sent before the restart is not sent again.
	if err := ob.Send(context.Background(), bookedNotice("pl", "jan@example.pl")); err != nil {
		t.Fatal(err)
	}
	es, _ := ob.Recent(10, all)
	if len(es) != 2 {
		t.Errorf("%d messages after sending a known key again, want 2", len(es))
	}
}

// The same key twice (a desk that retries, a reminder scheduler that runs
// twice) is one message.
func TestSameKeyIsSentOnce(t *testing.T) {
	sink := smtpsink.Start(t, "127.0.0.1:0", smtpsink.Options{})
	ob := openTest(t, t.TempDir(), Options{Email: NewMailer(emailConfig(sink.Port()), testComposer())})
	defer ob.Close()
	n := bookedNotice("en", "jan@example.pl")
	for range 3 {
		if err := ob.Send(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	if err := ob.Send(context.Background(), notice.Notice{Kind: "thanks", Office: "ums", Contact: "jan@example.pl"}); err == nil {
		t.Error("a notice of an unknown kind was taken")
	}
	other := n
	other.Key = "booked/K7M2X9P4/another-slot"
	if err := ob.Send(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	waitfor.Until(t, "two e-mails", 5*time.Second, func() bool { return len(sink.Messages()) >= 2 })
	waitfor.Until(t, "both marked sent", 5*time.Second, func() bool {
		es, _ := ob.Recent(10, all)
		return len(es) == 2 && es[0].State == Sent && es[1].State == Sent
	})
	if got := len(sink.Messages()); got != 2 {
		t.Errorf("%d e-mails for two keys", got)
	}
}

// The mail server refuses the address for good: the message is failed at
// once, shown to the staff with the contact masked and the server's
// reason scrubbed of it, and "retry now" sends it once the server takes it.
func TestRefusedMessageIsFailedShownAndRetried(t *testing.T) {
	sink := smtpsink.Start(t, "127.0.0.1:0", smtpsink.Options{})
	sink.Refuse(&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<jan.kowalski@example.pl>: mailbox unavailable"})
	logs := &testLog{}
	ob := openTest(t, t.TempDir(), Options{Email: NewMailer(emailConfig(sink.Port()), testComposer()), Log: logs.logger()})
	defer ob.Close()
	if err := ob.Send(context.Background(), bookedNotice("pl", "jan.kowalski@example.pl")); err != nil {
		t.Fatal(err)
	}
	waitfor.Until(t, "the message failed", 5*time.Second, func() bool { return entryOf(t, ob).State == Failed })
	e := entryOf(t, ob)
	if e.Attempts != 1 {
		t.Errorf("a refused address was tried %d times", e.Attempts)
	}
	if e.Contact != "j***@e***.pl" {
		t.Errorf("contact shown as %q", e.Contact)
	}
	if !strings.Contains(e.LastError, "550") || !strings.Contains(e.LastError, "j***@e***.pl") || strings.Contains(e.LastError, "kowalski") {
		t.Errorf("last error %q: want the server's reason with the address masked", e.LastError)
	}
	sink.Refuse(nil)
	if err := ob.Retry(e.ID, func(o string) bool { return o == "other-office" }); err == nil {
		t.Error("an admin of another office retried the message")
	}
	if err := ob.Retry(e.ID, all); err != nil {
		t.Fatal(err)
	}
	waitfor.Until(t, "the retried message sent", 5*time.Second, func() bool { return entryOf(t, ob).State == Sent })
	if err := ob.Retry(e.ID, all); err == nil {
		t.Error("a sent message could be retried")
	}
	assertNoPersonalData(t, logs.String(), "jan.kowalski@example.pl", "kowalski", "Jan Kowalski")
}

// A server that stays down: the message is retried with growing waits
// and failed once GiveUpAfter has passed.
func TestGivesUpAfterTheConfiguredTime(t *testing.T) {
	port := freePort(t)
	ob := openTest(t, t.TempDir(), Options{Email: NewMailer(emailConfig(port), testComposer()),
		GiveUpAfter: 400 * time.Millisecond, FirstRetry: 20 * time.Millisecond, MaxRetry: 100 * time.Millisecond})
	defer ob.Close()
	if err := ob.Send(context.Background(), bookedNotice("pl", "jan@example.pl")); err != nil {
		t.Fatal(err)
	}
	waitfor.Until(t, "the message failed", 5*time.Second, func() bool { return entryOf(t, ob).State == Failed })
	if e := entryOf(t, ob); e.Attempts < 3 || !strings.Contains(e.LastError, "connection refused") {
		t.Errorf("failed after %d attempts with %q", e.Attempts, e.LastError)
	}
}

func TestBackoffDoublesUpToItsCap(t *testing.T) {
	var got []time.Duration
	for n := 1; n <= 8; n++ {
		got = append(got, backoff(30*time.Second, 30*time.Minute, n))
	}
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 30 * time.Minute, 30 * time.Minute}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v", got, want)
	}
}

// A phone number with no SMS gateway configured is kept and shown as
// "no channel", not dropped.
func TestNoChannelIsVisible(t *testing.T) {
	sink := smtpsink.Start(t, "127.0.0.1:0", smtpsink.Options{})
	logs := &testLog{}
	ob := openTest(t, t.TempDir(), Options{Email: NewMailer(emailConfig(sink.Port()), testComposer()), Log: logs.logger()})
	defer ob.Close()
	if err := ob.Send(context.Background(), bookedNotice("pl", "+48 500 600 123")); err != nil {
		t.Fatal(err)
	}
	e := entryOf(t, ob)
	if e.State != NoChannel || e.Channel != SMS || e.Contact != "+48 *** *** 123" {
		t.Errorf("entry %+v: want a no-channel SMS to +48 *** *** 123", e)
	}
	if !strings.Contains(logs.String(), "no channel") {
		t.Error("the log does not say a message had no channel")
	}
	assertNoPersonalData(t, logs.String(), "500 600 123", "500600123", "Jan Kowalski")
}

// Delivered messages go with their contacts after KeepSent, undelivered
// ones after the office's retention past the visit.
func TestPurge(t *testing.T) {
	clock := testclock.New(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	sink := smtpsink.Start(t, "127.0.0.1:0", smtpsink.Options{})
	ob := openTest(t, t.TempDir(), Options{
		Email: NewMailer(emailConfig(sink.Port()), testComposer()), Clock: clock.Now,
		KeepSent: 48 * time.Hour, Retention: func(string) time.Duration { return 30 * 24 * time.Hour },
	})
	defer ob.Close()
	if err := ob.Send(context.Background(), bookedNotice("pl", "jan@example.pl")); err != nil {
		t.Fatal(err)
	}
	if err := ob.Send(context.Background(), bookedNotice("en", "+48500600123")); err != nil {
		t.Fatal(err)
	}
	waitfor.Until(t, "the e-mail sent", 5*time.Second, func() bool {
		es, _ := ob.Recent(10, all)
		return len(es) == 2 && es[1].State == Sent
	})
	for _, tt := range []struct {
		at   time.Time
		left int
	}{
		{clock.Now().Add(47 * time.Hour), 2},
		{clock.Now().Add(49 * time.Hour), 1},
		{visit.Add(29 * 24 * time.Hour), 1},
		{visit.Add(31 * 24 * time.Hour), 0},
	} {
		clock.Set(tt.at)
		if _, err := ob.Purge(); err != nil {
			t.Fatal(err)
		}
		es, _ := ob.Recent(10, all)
		if len(es) != tt.left {
			t.Errorf("at %v: %d messages left, want %d", tt.at, len(es), tt.left)
		}
	}
}

func assertNoPersonalData(t *testing.T, logs string, data ...string) {
	t.Helper()
	if logs == "" {
		t.Error("nothing was logged: the check would prove nothing")
	}
	for _, d := range data {
		if strings.Contains(logs, d) {
			t.Errorf("the log contains %q:\n%s", d, logs)
		}
	}
}

func TestMaskContact(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"jan.kowalski@example.pl", "j***@e***.pl"},
		{"a@b", "a***@b***"},
		{"+48 500 600 123", "+48 *** *** 123"},
		{"500600123", "*** *** 123"},
		{"0048 500-600-123", "+48 *** *** 123"},
		{"123", "***"},
		{"", ""},
	} {
		if got := MaskContact(tt.in); got != tt.want {
			t.Errorf("MaskContact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzMaskContact(f *testing.F) {
	for _, s := range []string{"jan@example.pl", "+48 500 600 123", "ż@ż.ż", "@", "++++"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, contact string) {
		m := MaskContact(contact)
		if len(contact) >= 12 && strings.Contains(m, contact) {
			t.Errorf("mask %q shows the whole contact", m)
		}
		_ = scrub("error about "+contact, contact, "Jan")
	})
}

// Sending a notice does not wait for delivery even when the channel is
// slow: Send is a write to the file.
func TestSendDoesNotWaitForDelivery(t *testing.T) {
	release := make(chan struct{})
	slow := delivererFunc(func(ctx context.Context, _ notice.Notice) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	ob := openTest(t, t.TempDir(), Options{Email: slow})
	defer ob.Close()
	defer close(release)
	for i := range 5 {
		n := bookedNotice("pl", "jan@example.pl")
		n.Key = fmt.Sprint("k", i)
		start := time.Now()
		if err := ob.Send(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Send took %v while a delivery hangs", d)
		}
	}
}

type delivererFunc func(context.Context, notice.Notice) error

func (f delivererFunc) Deliver(ctx context.Context, n notice.Notice) error { return f(ctx, n) }

// An office that keeps no booking data still sees a message that could
// not be sent for a while: it is not purged before it has been retried
// and shown (GiveUpAfter + KeepSent).
func TestUndeliveredMessagesOutliveAZeroRetention(t *testing.T) {
	clock := testclock.New(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	ob := openTest(t, t.TempDir(), Options{Clock: clock.Now, Retention: func(string) time.Duration { return 0 }})
	defer ob.Close()
	n := notice.Notice{Kind: notice.Called, Office: "ums", Lang: "pl", Contact: "+48500600123", Ticket: "A1", Counter: 3, Key: "called/A1"}
	if err := ob.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		after time.Duration
		left  int
	}{{time.Hour, 1}, {71 * time.Hour, 1}, {73 * time.Hour, 0}} {
		clock.Set(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC).Add(tt.after))
		if _, err := ob.Purge(); err != nil {
			t.Fatal(err)
		}
		if es, _ := ob.Recent(5, all); len(es) != tt.left {
			t.Errorf("after %v: %d messages, want %d", tt.after, len(es), tt.left)
		}
	}
}

// Several nodes' outboxes on one shared store (a kv.DB, as the nodes'
// PostgreSQL is): every message is delivered once, by whichever node's
// worker claims it, wherever it was stored.
func TestSharedOutboxDeliversEachMessageOnce(t *testing.T) {
	file, err := bolt.Open(filepath.Join(t.TempDir(), "shared.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	shared := kv.Bolt(file)
	var mu sync.Mutex
	delivered := map[string][]int{}
	const nodes, messages = 3, 30
	var outboxes []*Outbox
	for node := range nodes {
		count := delivererFunc(func(_ context.Context, n notice.Notice) error {
			mu.Lock()
			defer mu.Unlock()
			delivered[n.Key] = append(delivered[n.Key], node)
			return nil
		})
		ob, err := Open(Options{DB: shared, Email: count})
		if err != nil {
			t.Fatal(err)
		}
		defer ob.Close()
		outboxes = append(outboxes, ob)
	}
	for i := range messages {
		n := bookedNotice("pl", "jan@example.pl")
		n.Key = fmt.Sprint("booked/", i)
		if err := outboxes[i%nodes].Send(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	waitfor.Until(t, "every message marked sent", 10*time.Second, func() bool {
		es, _ := outboxes[0].Recent(messages+1, all)
		sent := 0
		for _, e := range es {
			if e.State == Sent {
				sent++
			}
		}
		return sent == messages
	})
	mu.Lock()
	defer mu.Unlock()
	for i := range messages {
		if by := delivered[fmt.Sprint("booked/", i)]; len(by) != 1 {
			t.Errorf("message %d delivered by nodes %v, want once", i, by)
		}
	}
}
