package outbox

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/smtpsink"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/store"
)

// The day before a visit, at the office's hour, each active booking of
// tomorrow gets one reminder, also when the scheduler runs again or the
// server restarts.
func TestRemindersTheDayBefore(t *testing.T) {
	dir := t.TempDir()
	db, err := store.OpenWebDB(filepath.Join(dir, "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	o := testOffice()
	warsaw := o.Location
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, warsaw) }
	booked := at(20, 12, 0)
	for _, b := range []store.Booking{
		{Office: "ums", ID: "tomorrow", Service: "id-card", Slot: at(27, 10, 30), Lang: "en", Name: "Anna", Contact: "anna@example.pl", BookedAt: booked},
		{Office: "ums", ID: "tomorrow-late", Service: "id-card", Slot: at(27, 15, 0), Lang: "pl", Name: "Ewa", Contact: "ewa@example.pl", BookedAt: booked},
		{Office: "ums", ID: "cancelled", Service: "id-card", Slot: at(27, 11, 0), Lang: "pl", BookedAt: booked, Cancelled: true},
		{Office: "ums", ID: "booked-after-the-hour", Service: "id-card", Slot: at(27, 12, 0), Lang: "pl", Contact: "late@example.pl", BookedAt: at(26, 17, 0)},
		{Office: "ums", ID: "today", Service: "id-card", Slot: at(26, 14, 0), Lang: "pl", Contact: "today@example.pl", BookedAt: booked},
		{Office: "ums", ID: "in-two-days", Service: "id-card", Slot: at(28, 9, 0), Lang: "pl", Contact: "later@example.pl", BookedAt: booked},
		{Office: "ums", ID: "office-dropped", Service: "id-card", Slot: at(27, 9, 0), Lang: "pl", Contact: "drop@example.pl", BookedAt: booked},
	} {
		if err := db.PutBooking(b); err != nil {
			t.Fatal(err)
		}
	}
	sink := smtpsink.Start(t, "127.0.0.1:0", smtpsink.Options{})
	opts := Options{Email: NewMailer(emailConfig(sink.Port()), testComposer())}
	ob := openTest(t, dir, opts)
	signer := links.New([]byte("test-key"), "https://kolejka.example.pl")
	r := &Reminders{
		Bookings: db, Links: signer, Offices: []*queue.Office{o}, Sender: ob, At: 16 * time.Hour,
		Active: func(_ context.Context, _, id string, _ time.Time) bool { return id != "office-dropped" },
	}
	ctx := context.Background()
	if n, err := r.RemindDue(ctx, at(26, 15, 59)); err != nil || n != 0 {
		t.Fatalf("before the hour: %d reminders (%v)", n, err)
	}
	if n, err := r.RemindDue(ctx, at(26, 16, 0)); err != nil || n != 2 {
		t.Fatalf("at the hour: %d reminders (%v), want 2", n, err)
	}
	if _, err := r.RemindDue(ctx, at(26, 18, 0)); err != nil {
		t.Fatal(err)
	}
	if err := ob.Close(); err != nil {
		t.Fatal(err)
	}
	ob = openTest(t, dir, opts)
	defer ob.Close()
	r.Sender = ob
	if _, err := r.RemindDue(ctx, at(26, 19, 0)); err != nil {
		t.Fatal(err)
	}
	waitfor.Until(t, "the reminders delivered", 5*time.Second, func() bool {
		es, _ := ob.Recent(10, all)
		return len(es) == 2 && es[0].State == Sent && es[1].State == Sent
	})
	msgs := sink.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d reminders sent, want 2 (once each, across runs and a restart)", len(msgs))
	}
	subjects := map[string]bool{}
	for _, m := range msgs {
		pm := parseMail(t, m.Data)
		subjects[m.To[0]+" "+pm.Subject] = true
		if m.To[0] == "anna@example.pl" {
			code := signer.BookingCode("ums", "tomorrow")
			if !strings.Contains(pm.Text, links.FormatCode(code)) || !strings.Contains(pm.Text, signer.BookingURL("ums", "tomorrow")) {
				t.Errorf("Anna's reminder lacks her code or link:\n%s", pm.Text)
			}
		}
	}
	for _, want := range []string{"anna@example.pl Reminder: your visit tomorrow at 10:30", "ewa@example.pl Przypomnienie: Twoja wizyta jutro o 15:00"} {
		if !subjects[want] {
			t.Errorf("no reminder %q among %v", want, subjects)
		}
	}
}

func TestNextReminderMoment(t *testing.T) {
	o := testOffice()
	r := &Reminders{Offices: []*queue.Office{o}, At: 16 * time.Hour}
	for _, tt := range []struct{ now, want time.Time }{
		{time.Date(2026, 11, 26, 10, 0, 0, 0, o.Location), time.Date(2026, 11, 26, 16, 0, 0, 0, o.Location)},
		{time.Date(2026, 11, 26, 16, 0, 0, 0, o.Location), time.Date(2026, 11, 27, 16, 0, 0, 0, o.Location)},
		// The night summer time ends, the hour is still 16:00 local.
		{time.Date(2026, 10, 24, 17, 0, 0, 0, o.Location), time.Date(2026, 10, 25, 16, 0, 0, 0, o.Location)},
	} {
		if got := r.next(tt.now); !got.Equal(tt.want) {
			t.Errorf("after %v: %v, want %v", tt.now, got, tt.want)
		}
	}
}
