package booking

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/testclock"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/server/notice/noticetest"
	"github.com/numerek/numerek/store"
)

type outbox struct{ noticetest.Recorder }

func (o *outbox) kinds() []notice.Kind { return o.Kinds() }

func (o *outbox) last() notice.Notice {
	sent := o.Sent()
	return sent[len(sent)-1]
}

type deskEnv struct {
	t      *testing.T
	dir    string
	clock  *testclock.Clock
	office *queue.Office
	desk   *Desk
	db     *store.WebDB
	out    *outbox
	actor  *actor.Actor
	stop   func()
}

func at(o *queue.Office, hhmm string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", "2026-11-23 "+hhmm, o.Location)
	if err != nil {
		panic(err)
	}
	return t
}

// newDesk is the desk over real bbolt files with the example office,
// Monday 2026-11-23 at 08:00.
func newDesk(t *testing.T, adjust func(*queue.Office)) *deskEnv {
	cfg, err := officeconfig.Load(filepath.Join("..", "..", "examples", "offices", "starachowice.toml"))
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Offices[0]
	if adjust != nil {
		adjust(o)
	}
	dir := t.TempDir()
	db, err := store.OpenWebDB(filepath.Join(dir, "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &deskEnv{t: t, dir: dir, clock: testclock.New(at(o, "08:00")), db: db, out: &outbox{}}
	e.desk = New(db, links.New([]byte("k"), "https://numerek.test"), e.clock.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.desk.Notices = e.out
	e.start(o)
	return e
}

// start runs the office's actor over its log; a second start after stop
// is a restart, possibly with a changed configuration.
func (e *deskEnv) start(o *queue.Office) {
	e.office = o
	l, err := store.OpenOfficeLog(filepath.Join(e.dir, o.ID+".db"), o.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	a, err := actor.New(o, l, e.clock.Now, slog.New(slog.NewTextHandler(io.Discard, nil)), actor.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	e.actor = a
	e.stop = func() { cancel(); <-done; l.Close() }
	e.t.Cleanup(func() { e.stop() })
}

func (e *deskEnv) book(hhmm, contact string) (Booked, error) {
	return e.desk.Book(context.Background(), e.actor, "test", Request{
		Service: "family", Slot: at(e.office, hhmm), Lang: "pl", Name: "Jan Kowalski", Contact: contact, Terms: true,
	})
}

func (e *deskEnv) free(hhmm string) int {
	slot := at(e.office, hhmm)
	free := -1
	_ = e.actor.Query(context.Background(), func(s *queue.State) {
		if sl, ok := s.Slot(e.clock.Now(), "family", slot); ok {
			free = sl.Free
		}
	})
	return free
}

func TestHoldConfirmsWithTheCodeSent(t *testing.T) {
	e := newDesk(t, nil)
	b, err := e.book("10:00", "jan@example.pl")
	if err != nil || !b.Held {
		t.Fatalf("booking: %+v %v, want a hold", b, err)
	}
	if e.free("10:00") != 0 {
		t.Fatal("the hold does not keep the slot")
	}
	sent := e.out.last()
	if sent.Kind != notice.ConfirmContact || len(sent.Code) != 6 || sent.Contact != "jan@example.pl" ||
		sent.Links.Confirm != "https://numerek.test"+e.desk.links.ConfirmPath(e.office.ID, b.ID) {
		t.Fatalf("confirmation notice %+v", sent)
	}
	if _, err := e.desk.CheckIn(context.Background(), e.actor, Source{Device: "kiosk", Addr: "10.0.0.1"}, b.Code, queue.CheckIn{Device: "k"}, "test"); !errors.Is(err, ErrNoSuchCode) {
		t.Errorf("check-in of an unconfirmed hold: %v", err)
	}
	wrong := "000000"
	if sent.Code == wrong {
		wrong = "111111"
	}
	if err := e.desk.Confirm(context.Background(), e.actor, "test", b.ID, wrong); !errors.Is(err, ErrWrongCode) {
		t.Fatalf("wrong code: %v", err)
	}
	if err := e.desk.Confirm(context.Background(), e.actor, "test", b.ID, sent.Code[:3]+" "+sent.Code[3:]); err != nil {
		t.Fatalf("right code: %v", err)
	}
	if got := e.out.kinds(); len(got) != 2 || got[1] != notice.Booked || e.out.last().Booking != links.FormatCode(b.Code) {
		t.Fatalf("notices %v, last %+v", got, e.out.last())
	}
	e.clock.Set(at(e.office, "09:00"))
	if e.free("10:00") != 0 {
		t.Error("a confirmed booking lets its slot go when the hold time passes")
	}
	stored, _, _ := e.db.Booking(e.office.ID, b.ID)
	if len(stored.Sent) != 2 || stored.ConfirmTries != 1 || !stored.PurgeAt.Equal(stored.Slot.Add(e.office.Booking.Retention)) {
		t.Errorf("stored %+v", stored)
	}
}

func TestWrongCodesEndTheHold(t *testing.T) {
	e := newDesk(t, nil)
	b, _ := e.book("10:00", "600100200")
	right := e.out.last().Code
	wrong := "000000"
	if right == wrong {
		wrong = "111111"
	}
	for i := 1; i < MaxConfirmTries; i++ {
		if err := e.desk.Confirm(context.Background(), e.actor, "test", b.ID, wrong); !errors.Is(err, ErrWrongCode) {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	if err := e.desk.Confirm(context.Background(), e.actor, "test", b.ID, wrong); !errors.Is(err, ErrTooManyTries) {
		t.Fatalf("wrong code %d: %v", MaxConfirmTries, err)
	}
	if err := e.desk.Confirm(context.Background(), e.actor, "test", b.ID, right); !errors.Is(err, ErrTooManyTries) {
		t.Fatalf("the right code after %d wrong ones: %v", MaxConfirmTries, err)
	}
}

// A hold nobody confirms frees its slot when its time is up, also after a
// restart: the hold is in the office's log, with its end.
func TestHoldExpiresAcrossARestart(t *testing.T) {
	e := newDesk(t, nil)
	b, _ := e.book("10:00", "jan@example.pl")
	code := e.out.last().Code
	e.stop()
	e.start(e.office)
	if e.free("10:00") != 0 {
		t.Fatal("a restart dropped the hold")
	}
	e.clock.Set(at(e.office, "08:15"))
	if e.free("10:00") != 1 {
		t.Fatal("the expired hold still takes the slot")
	}
	if err := e.desk.Confirm(context.Background(), e.actor, "test", b.ID, code); !errors.Is(err, ErrHoldExpired) {
		t.Fatalf("confirming after the hold: %v", err)
	}
	if _, err := e.book("10:00", "ewa@example.pl"); err != nil {
		t.Fatalf("booking the freed slot: %v", err)
	}
}

func TestOneBookingPerContactPerDay(t *testing.T) {
	e := newDesk(t, func(o *queue.Office) { o.Booking.ConfirmContact = false })
	first, err := e.book("10:00", "+48 600 100 200")
	if err != nil || first.Held {
		t.Fatalf("first booking: %+v %v", first, err)
	}
	_, err = e.book("11:00", "600-100-200")
	var le *LimitError
	if !errors.As(err, &le) || le.Existing.ID != first.ID || le.Path != first.Path {
		t.Fatalf("second booking the same day by the same phone: %v", err)
	}
	if _, err := e.book("11:00", "0048600100200"); !errors.As(err, &le) {
		t.Errorf("the same phone with 00: %v", err)
	}
	if _, err := e.book("11:00", "600100201"); err != nil {
		t.Errorf("another phone: %v", err)
	}
	if _, err := e.desk.Book(context.Background(), e.actor, "test", Request{Service: "family", Slot: at(e.office, "10:00").AddDate(0, 0, 1),
		Lang: "pl", Name: "Jan Kowalski", Contact: "600100200", Terms: true}); err != nil {
		t.Errorf("the next day: %v", err)
	}
	if err := e.desk.Cancel(context.Background(), e.actor, "test", first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.book("11:15", "600100200"); err != nil {
		t.Errorf("after cancelling the first: %v", err)
	}
}

func TestContactKeyWithCountry(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Jan.Kowalski@Example.PL", "mailto:jan.kowalski@example.pl"},
		{"600 100 200", "tel:+48600100200"},
		{"+48 (600) 100-200", "tel:+48600100200"},
		{"0048600100200", "tel:+48600100200"},
		{"+370 612 34567", "tel:+37061234567"},
	} {
		if got := ContactKey(tc.in, "48"); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := ContactKey("612345678", "370"); got != "tel:+370612345678" {
		t.Errorf("with country 370: %q", got)
	}
}

func TestRescheduleRaceOneWins(t *testing.T) {
	e := newDesk(t, func(o *queue.Office) { o.Booking.ConfirmContact = false })
	a, _ := e.book("10:00", "a@example.pl")
	b, _ := e.book("10:15", "b@example.pl")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, id := range []string{a.ID, b.ID} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = e.desk.Reschedule(context.Background(), e.actor, "test", id, at(e.office, "12:00"))
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("two moves to the last place at 12:00: %v, %v; want one to win", errs[0], errs[1])
	}
	winner, loser, left := a, b, "10:00"
	if errs[0] != nil {
		winner, loser, left = b, a, "10:15"
	}
	w, _, _ := e.db.Booking(e.office.ID, winner.ID)
	l, _, _ := e.db.Booking(e.office.ID, loser.ID)
	if !w.Slot.Equal(at(e.office, "12:00")) || l.Slot.Equal(at(e.office, "12:00")) {
		t.Fatalf("winner at %v, loser at %v", w.Slot, l.Slot)
	}
	if e.free(left) != 1 {
		t.Error("the winner's old slot is not free")
	}
	if e.free("12:00") != 0 {
		t.Error("12:00 is not taken")
	}
	if e.desk.links.BookingCode(e.office.ID, winner.ID) != winner.Code {
		t.Error("the code changed")
	}
	if n := e.out.last(); n.Kind != notice.Rescheduled || !n.Slot.Equal(at(e.office, "12:00")) {
		t.Errorf("last notice %+v", n)
	}
}

// A closed afternoon added to the configuration after bookings were made
// cancels them at the next start, with the day's name as the reason.
func TestOfficeClosingCancelsAndTells(t *testing.T) {
	e := newDesk(t, func(o *queue.Office) { o.Booking.ConfirmContact = false })
	morning, _ := e.book("10:00", "a@example.pl")
	afternoon, _ := e.book("14:00", "b@example.pl")
	e.stop()
	changed := *e.office
	changed.Exceptions = map[string]queue.DayException{"2026-11-23": {
		Name: "szkolenie", Names: map[string]string{"pl": "szkolenie pracowników"},
		Hours: []queue.Interval{{Open: 7*60 + 30, Close: 12 * 60}},
	}}
	e.start(&changed)
	got, err := e.desk.CancelOutsideHours(context.Background(), e.actor)
	if err != nil || len(got) != 1 || got[0].ID != afternoon.ID || got[0].CancelReason != "szkolenie pracowników" || got[0].Contact != "" {
		t.Fatalf("cancelled %+v, %v; want the 14:00 booking, its data gone", got, err)
	}
	n := e.out.last()
	if n.Kind != notice.CancelledByOffice || n.Contact != "b@example.pl" || n.Reason != "szkolenie pracowników" || n.Links.Manage != "https://numerek.test/book/"+e.office.ID+"?service=family" {
		t.Fatalf("notice %+v", n)
	}
	if again, _ := e.desk.CancelOutsideHours(context.Background(), e.actor); len(again) != 0 {
		t.Errorf("a second sweep cancelled %d more", len(again))
	}
	if m, _, _ := e.db.Booking(e.office.ID, morning.ID); m.Cancelled {
		t.Error("the morning booking was cancelled too")
	}
	if list, _ := e.db.CancelledByOffice(e.office.ID); len(list) != 1 {
		t.Errorf("staff see %d cancelled bookings", len(list))
	}
}

func TestForgetCancelsAndDeletes(t *testing.T) {
	e := newDesk(t, func(o *queue.Office) { o.Booking.ConfirmContact = false })
	b, _ := e.book("10:00", "a@example.pl")
	if err := e.desk.Forget(context.Background(), e.actor, "test", b.ID); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := e.db.Booking(e.office.ID, b.ID); found {
		t.Error("the booking's record is still stored")
	}
	if e.free("10:00") != 1 {
		t.Error("the slot was not freed")
	}
}

// Moving back and forth tells the resident each time: each move's notice
// has its own key.
func TestEveryMoveIsTold(t *testing.T) {
	e := newDesk(t, func(o *queue.Office) { o.Booking.ConfirmContact = false })
	b, _ := e.book("10:00", "a@example.pl")
	for _, hhmm := range []string{"11:00", "10:00", "11:00"} {
		if err := e.desk.Reschedule(context.Background(), e.actor, "test", b.ID, at(e.office, hhmm)); err != nil {
			t.Fatal(err)
		}
	}
	moves := 0
	for _, k := range e.out.kinds() {
		if k == notice.Rescheduled {
			moves++
		}
	}
	if moves != 3 {
		t.Errorf("%d move notices for 3 moves", moves)
	}
}

type failingOutbox struct{}

func (failingOutbox) Send(context.Context, notice.Notice) error { return errors.New("outbox full") }
func (failingOutbox) Reaches(string) bool                       { return true }

// mailOnly is an outbox with e-mail and no SMS gateway.
type mailOnly struct{ noticetest.Recorder }

func (*mailOnly) Reaches(contact string) bool { return strings.Contains(contact, "@") }

// A contact no message can reach (a phone number, with no SMS gateway)
// books at once: it could never type a code it is never sent. An e-mail
// address is still asked to confirm.
func TestUnreachableContactBooksAtOnce(t *testing.T) {
	e := newDesk(t, nil)
	out := &mailOnly{}
	e.desk.Notices = out
	phone, err := e.book("10:00", "600 100 200")
	if err != nil {
		t.Fatal(err)
	}
	mail, err := e.book("10:15", "jan@example.pl")
	if err != nil {
		t.Fatal(err)
	}
	if phone.Held || !mail.Held {
		t.Errorf("phone held %v, e-mail held %v; want the phone booked at once and the e-mail asked to confirm", phone.Held, mail.Held)
	}
	if got := out.Kinds(); !slices.Equal(got, []notice.Kind{notice.Booked, notice.ConfirmContact}) {
		t.Errorf("notices %v, want booked (for the phone, kept for the staff's list) then confirm-contact", got)
	}
}

// An outbox that cannot take a notice neither loses nor blocks the
// booking; with no outbox at all everything but the messages works.
func TestBookingStandsWhenNoticesFail(t *testing.T) {
	for name, sender := range map[string]notice.Sender{"failing": failingOutbox{}, "none": nil} {
		t.Run(name, func(t *testing.T) {
			e := newDesk(t, nil)
			e.desk.Notices = sender
			b, err := e.book("10:00", "jan@example.pl")
			if err != nil {
				t.Fatal(err)
			}
			if sender == nil && b.Held {
				t.Error("with no outbox the contact cannot be asked to confirm, yet the slot is only held")
			}
			if b.Held {
				if err := e.desk.Confirm(context.Background(), e.actor, "test", b.ID, e.desk.links.ConfirmCode(e.office.ID, b.ID)); err != nil {
					t.Fatal(err)
				}
			}
			stored, _, _ := e.db.Booking(e.office.ID, b.ID)
			if stored.Held() || len(stored.Sent) != 0 || e.free("10:00") != 0 {
				t.Errorf("stored %+v, %d free at 10:00", stored, e.free("10:00"))
			}
		})
	}
}
