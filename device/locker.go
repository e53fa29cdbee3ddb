package device

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/numerek/numerek/device/locker"
	"github.com/numerek/numerek/display"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
)

// buildLocker makes the pickup locker's touch screen and starts the
// locker's work: its doors, its codes and its reports.
func (d *dev) buildLocker(ctx context.Context) (display.Screen, error) {
	lc := d.cfg.Locker
	comps, err := locker.Open(locker.WiringOf(lc.Compartments))
	switch {
	case errors.Is(err, locker.ErrNoGPIO):
		d.log.Error("this machine has no GPIO pins; the locker's screen runs but no compartment can open")
	case err != nil:
		d.log.Error("some of the locker's compartments cannot be used", "err", err)
	}
	o := d.office(ctx, 5*time.Second)
	ls := &lockerScreen{d: d, id: lc.ID}
	lk, err := locker.New(locker.Options{
		ID: lc.ID, Compartments: comps, DB: d.db, Office: d.follower, Server: d.client, Now: d.clock.Now,
		DoorAlarm: ls.doorAlarm, Log: d.log.With("locker", lc.ID),
		OnDoors: ls.doorsChanged, OnDoorClosed: ls.doorClosed, OnFault: d.health.now,
	})
	if err != nil {
		return nil, err
	}
	screen := display.NewLocker(display.LockerOptions{
		Panel: d.panel(), Actions: lockerActions{lk}, Languages: d.cfg.Languages, DefaultLang: d.cfg.Languages[0],
		Location: location(o), IdleTimeout: d.cfg.Screen.IdleTimeout, Now: d.clock.Now, Context: ctx,
	})
	ls.mu.Lock()
	ls.screen, ls.locker, ls.doors = screen, lk, lk.Doors()
	ls.mu.Unlock()
	ls.checkWiring(o)
	d.spawn("locker", lk.Run)
	w := d.follower.Watch()
	d.spawn("locker screen", func(ctx context.Context) error { return d.feed(ctx, w, 0, ls.react) })
	d.health.setLocker(lk.Health)
	d.status = func() any {
		st := LockerStatus{
			Locker: lc.ID, Doors: lk.Health(), Wired: lk.Compartments(),
			Lang: screen.Lang(), Taps: screen.Taps(), Targets: screen.Targets(),
		}
		d.follower.Read(func(s *queue.State) {
			for _, dep := range s.LiveDeposits(lc.ID) {
				st.Deposits = append(st.Deposits, LockerDepositStatus{ID: dep.ID, Compartment: dep.Compartment, State: dep.State})
			}
		})
		return st
	}
	return screen, nil
}

// LockerStatus is the locker's part of the status page (role_status):
// its doors, the compartments it wires, the live deposits its replica
// holds (no personal data: ids and states), and its screen's touch
// targets.
type LockerStatus struct {
	Locker   string                 `json:"locker"`
	Doors    *protocol.LockerHealth `json:"doors"`
	Wired    []string               `json:"wired"`
	Deposits []LockerDepositStatus  `json:"deposits"`
	Lang     string                 `json:"lang"`
	Taps     int64                  `json:"taps"`
	Targets  []display.Target       `json:"targets"`
}

// LockerDepositStatus is a live deposit as the locker's replica has it.
type LockerDepositStatus struct {
	ID          string             `json:"id"`
	Compartment string             `json:"compartment"`
	State       queue.DepositState `json:"state"`
}

// lockerActions is what the locker's screen asks of the device.
type lockerActions struct{ lk *locker.Locker }

func (a lockerActions) Code(ctx context.Context, code string) display.LockerOutcome {
	return display.LockerOutcome(a.lk.Code(ctx, code))
}

func (a lockerActions) SecondFactor(ctx context.Context, deposit, code string) display.LockerOutcome {
	return display.LockerOutcome(a.lk.SecondFactor(ctx, deposit, code))
}

func (a lockerActions) Retry(ctx context.Context, deposit string) display.LockerOutcome {
	return display.LockerOutcome(a.lk.Retry(ctx, deposit))
}

// lockerScreen keeps the locker's screen showing the locker: its name and
// compartments from the office, its doors from the locker, and whether the
// server can be reached.
type lockerScreen struct {
	d  *dev
	id string

	mu     sync.Mutex
	screen *display.Locker
	locker *locker.Locker
	office queue.Locker
	known  bool // office holds the locker's configuration
	doors  locker.Doors
	online bool
}

// doorAlarm is how long a door may stand open: the office's setting.
func (ls *lockerScreen) doorAlarm() time.Duration {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.known {
		return ls.office.Alarm()
	}
	if o := ls.d.follower.Office(); o != nil {
		if l, ok := o.Locker(ls.id); ok {
			return l.Alarm()
		}
	}
	return queue.DefaultDoorAlarm
}

// react takes the office's locker configuration and the server's reach
// when they change.
func (ls *lockerScreen) react(s *queue.State, n news) func() {
	if !n.Reset && !n.OnlineChanged && ls.known {
		return nil
	}
	l, ok := s.Office.Locker(ls.id)
	ls.mu.Lock()
	ls.office, ls.known, ls.online = l, ok, n.Online
	ls.mu.Unlock()
	if !ok {
		ls.d.log.Error("the office has no locker with this device's id; check [locker] id", "locker", ls.id, "office", s.Office.ID)
	}
	return ls.show
}

// checkWiring says which of the office's compartments this device does
// not wire, and which it wires that the office does not have.
func (ls *lockerScreen) checkWiring(o *queue.Office) {
	if o == nil {
		return
	}
	l, ok := o.Locker(ls.id)
	if !ok {
		return
	}
	wired := map[string]bool{}
	for _, c := range ls.d.cfg.Locker.Compartments {
		wired[c.ID] = true
		if _, ok := l.Compartment(c.ID); !ok {
			ls.d.log.Warn("a compartment is wired that the office's locker does not have", "compartment", c.ID, "locker", ls.id)
		}
	}
	for _, c := range l.Compartments {
		if !wired[c.ID] {
			ls.d.log.Error("the office's locker has a compartment this device does not wire; it cannot open", "compartment", c.ID, "locker", ls.id)
		}
	}
}

func (ls *lockerScreen) doorsChanged(ds locker.Doors) {
	ls.mu.Lock()
	ls.doors = ds
	ls.mu.Unlock()
	ls.show()
}

func (ls *lockerScreen) doorClosed(compartment string) {
	ls.mu.Lock()
	screen := ls.screen
	ls.mu.Unlock()
	if screen != nil {
		screen.DoorClosed(compartment)
	}
}

// show hands the screen the locker as it is now.
func (ls *lockerScreen) show() {
	ls.mu.Lock()
	screen := ls.screen
	v := display.LockerView{
		Name: ls.office.Name(ls.d.cfg.Languages[0]), Compartments: ls.office.Compartments,
		Open: ls.doors.Open, Alarm: ls.doors.Alarm, Offline: !ls.online,
	}
	ls.mu.Unlock()
	if screen != nil {
		screen.SetView(v)
	}
}
