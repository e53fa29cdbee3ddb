package device

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/display"
	"github.com/numerek/numerek/internal/lockedbuf"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// hallRig is a hall's screen and herald (sound off) on a data file, fed
// by hand what a follower would tell it.
type hallRig struct {
	t   *testing.T
	s   *queue.State
	now time.Time
	hs  *hallScreen
	log *lockedbuf.Buffer
	db  *store.DeviceDB
}

func newHallRig(t *testing.T, s *queue.State, now time.Time, db *store.DeviceDB) *hallRig {
	log := &lockedbuf.Buffer{}
	clock := replica.NewClock(time.Until(now)) // office time: the morning of the test
	d := &dev{
		cfg: &config.Config{Role: config.RoleHall, Sound: config.Sound{AnnounceWithin: time.Hour}},
		log: slog.New(slog.NewTextHandler(log, nil)), db: db, clock: clock,
	}
	h, err := newHerald(d)
	if err != nil {
		t.Fatal(err)
	}
	hall := display.NewHall(display.HallConfig{Panel: display.LandscapeHD, Location: s.Office.Location, Now: clock.Now, BlinkFor: time.Hour})
	r := &hallRig{t: t, s: s, now: now, log: log, db: db}
	// The screen's clock is the test's, so a tick moves the waits only
	// when the test moves the clock.
	r.hs = &hallScreen{d: d, screen: hall, herald: h, now: func() time.Time { return r.now }}
	return r
}

// do runs commands on the office and returns what a follower that folded
// their events would tell.
func (r *hallRig) do(cmds ...queue.Command) news {
	r.t.Helper()
	ch := replica.Change{From: r.s.Seq, Online: true}
	for _, cmd := range cmds {
		events, _, err := r.s.Execute(r.now, "test", cmd)
		if err != nil {
			r.t.Fatalf("%s: %v", queue.String(cmd), err)
		}
		for _, e := range events {
			ch.Parts |= queue.PartsOf(e.Body)
		}
	}
	ch.To = r.s.Seq
	return news{Change: ch}
}

// react gives the hall n and reports whether it had anything to do.
func (r *hallRig) react(n news) bool {
	show := r.hs.react(r.s, n)
	if show != nil {
		show()
	}
	return show != nil
}

func (r *hallRig) said() int { return strings.Count(r.log.String(), "msg=called") }

func firstLook(s *queue.State) news {
	return news{Change: replica.Change{From: s.Seq, To: s.Seq, Reset: true, Parts: queue.AllParts, Online: true, OnlineChanged: true}}
}

// The hall asks the office once per change which calls are new: the
// herald says each call once and the screen blinks the newest, while
// changes the hall does not draw (a rating, a device's fault, a clock
// tick that moves no wait) give it nothing to do, a withdrawn call is
// never said, and a hall restarted on its data file says nothing again.
func TestHallActsOnEvents(t *testing.T) {
	s, now := busyMorning(t)
	db, err := store.OpenDevice(filepath.Join(t.TempDir(), DataFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := newHallRig(t, s, now, db)
	called := len(s.Calls)

	if !r.react(firstLook(s)) {
		t.Fatal("nothing to do on the first look")
	}
	if got := r.said(); got != called {
		t.Errorf("first look: %d calls said, want the %d of the morning (none said before)", got, called)
	}
	if r.hs.screen.Blinking(r.hs.d.clock.Now()) {
		t.Error("the first view blinks: its calls are history to the screen")
	}

	r.now = r.now.Add(time.Minute)
	n := r.do(queue.Finish{Counter: 1}, queue.CallNext{Counter: 1})
	if !r.react(n) || r.said() != called+1 {
		t.Errorf("a new call: %d said, want %d", r.said(), called+1)
	}
	if !r.hs.screen.Blinking(r.hs.d.clock.Now()) {
		t.Error("the new call does not blink")
	}
	if r.react(n); r.said() != called+1 {
		t.Errorf("the same change told twice: said %d", r.said())
	}

	for _, cmd := range []queue.Command{
		queue.RateAtCounter{Counter: 1, Rating: queue.RatingGood},
		queue.ReportFault{Device: "kiosk", Fault: "paper_out"},
	} {
		if r.react(r.do(cmd)) {
			t.Errorf("%s: the hall redraws what it does not show", queue.String(cmd))
		}
	}
	if r.react(news{Change: replica.Change{From: s.Seq, To: s.Seq, Online: true}, Tick: true}) {
		t.Error("a tick that moved no wait: the hall redraws")
	}

	// A ticket called and withdrawn (its kiosk printed nothing) before the
	// hall heard of either: nobody holds the number, it is not said.
	n = r.do(queue.Finish{Counter: 2},
		queue.Issue{Service: s.Office.Services[0].ID, Lang: "pl", Channel: queue.ChannelKiosk, RequestID: "k/1"})
	r.react(n)
	tk := s.Requests["k/1"].Ticket
	n = r.do(queue.CallTicket{Counter: 2, Ticket: tk}, queue.WithdrawRequest{RequestID: "k/1"})
	r.react(n)
	if strings.Contains(r.log.String(), "ticket="+s.Tickets[tk].Number+" ") {
		t.Errorf("the withdrawn ticket %s was said", s.Tickets[tk].Number)
	}
	if r.said() != called+1 {
		t.Errorf("%d said, want %d", r.said(), called+1)
	}

	// Restarted on the same data file: everything is history.
	again := newHallRig(t, s, r.now, db)
	again.react(firstLook(s))
	if got := again.said(); got != 0 {
		t.Errorf("the restarted hall said %d calls again", got)
	}
}
