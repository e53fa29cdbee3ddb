package locker

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/numerek/numerek/device/locker/lockertest"
	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/internal/testclock"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/servertest"
	"github.com/numerek/numerek/store"
)

// rig is a locker with its server, its replica and its device file, all
// real, and its compartments on test pins.
type rig struct {
	t      *testing.T
	srv    *servertest.Server
	db     *store.DeviceDB
	path   string
	follow *replica.Follower
	client *protocol.Client
	locker *Locker
	lockID string
	hw     map[string]lockertest.Compartment
	opts   Options
	faults chan struct{}
	closed chan string
	stop   func()
}

// newRig starts a server on the example office and a locker device on its
// first locker, every compartment wired.
func newRig(t *testing.T, opts Options) *rig {
	t.Helper()
	srv := servertest.Start(t, servertest.Options{})
	if len(srv.Office.Lockers) == 0 {
		t.Fatal("the example office has no locker")
	}
	r := &rig{t: t, srv: srv, path: filepath.Join(t.TempDir(), "device.db"), lockID: srv.Office.Lockers[0].ID, hw: map[string]lockertest.Compartment{}}
	for _, c := range srv.Office.Lockers[0].Compartments {
		r.hw[c.ID] = lockertest.New("", c.ID)
	}
	r.opts = opts
	r.start()
	return r
}

// start runs the device on its file, as kioskd does after a (re)start.
func (r *rig) start() {
	t := r.t
	t.Helper()
	db, err := store.OpenDevice(r.path)
	if err != nil {
		t.Fatal(err)
	}
	clock := replica.NewClock(0)
	client, err := protocol.NewClient(r.srv.URL, r.srv.Office.ID, r.srv.Token("locker", 0, r.lockID), protocol.ClientOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	f := replica.NewFollower(client, db, clock, log, replica.FollowOptions{OfflineAfter: 300 * time.Millisecond, Backoff: protocol.Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond}})
	if _, err := f.Restore(); err != nil {
		t.Fatal(err)
	}
	opts := r.opts
	opts.ID, opts.DB, opts.Office, opts.Server, opts.Log = r.lockID, db, f, client, log
	if opts.Now == nil {
		opts.Now = r.srv.Clock.Now
	}
	if opts.ReportEvery == 0 {
		opts.ReportEvery = 100 * time.Millisecond
	}
	if opts.Poll == 0 {
		opts.Poll = 50 * time.Millisecond
	}
	r.faults, r.closed = make(chan struct{}, 64), make(chan string, 64)
	opts.OnFault = func() { r.faults <- struct{}{} }
	opts.OnDoorClosed = func(c string) { r.closed <- c }
	opts.Compartments = nil
	for _, c := range r.srv.Office.Lockers[0].Compartments {
		h := r.hw[c.ID]
		opts.Compartments = append(opts.Compartments, Compartment{ID: c.ID, Lock: h.Lock, Door: h.Door, DoorClosedLow: true, Pulse: 20 * time.Millisecond})
	}
	lk, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); f.Run(ctx) }()
	go func() { defer wg.Done(); lk.Run(ctx) }()
	r.db, r.follow, r.client, r.locker = db, f, client, lk
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			db.Close()
		})
	}
	t.Cleanup(r.stop)
	r.waitFor("the office's state", func() bool { return f.Online() && f.Office() != nil })
}

// restart stops the device as a power cut would (nothing more is written)
// and starts it again on its file.
func (r *rig) restart() {
	r.stop()
	r.start()
}

func (r *rig) waitFor(what string, cond func() bool) {
	r.t.Helper()
	waitfor.Until(r.t, what, 15*time.Second, cond)
}

// deposit is a reservation and its plain codes, as the staff page has
// them.
type deposit struct {
	id, compartment, clerk, pickup string
}

// reserve reserves a compartment through the office's actor, as the
// staff page does, for a document that needs a second factor or not, and
// waits until the locker's replica has it.
func (r *rig) reserve(id string, secondFactor bool) deposit {
	r.t.Helper()
	taken := func(string) bool { return false }
	clerk, clerkHash, err := queue.NewLockerCode(taken, rand.Reader)
	if err != nil {
		r.t.Fatal(err)
	}
	pickup, pickupHash, err := queue.NewLockerCode(func(l string) bool { return l == clerkHash.Lookup }, rand.Reader)
	if err != nil {
		r.t.Fatal(err)
	}
	doc := ""
	for _, d := range r.srv.Office.Lockers[0].Documents {
		if d.SecondFactor == secondFactor {
			doc = d.ID
			break
		}
	}
	if doc == "" {
		r.t.Fatalf("the example locker has no document type with second_factor %v", secondFactor)
	}
	res := r.srv.Actor().Do(context.Background(), "test", queue.ReserveCompartment{
		Deposit: id, Locker: r.lockID, Document: doc, Size: r.srv.Office.Lockers[0].Compartments[0].Size, ClerkCode: clerkHash, PickupCode: pickupHash,
	})
	if res.Err != nil {
		r.t.Fatalf("reserving a compartment: %v", res.Err)
	}
	d := deposit{id: id, clerk: queue.FormatLockerCode(clerk), pickup: pickup}
	r.waitFor("the reservation on the device", func() bool {
		d.compartment = r.deposit(id).Compartment
		return d.compartment != ""
	})
	return d
}

// deposit is the deposit as the device's replica has it.
func (r *rig) deposit(id string) queue.Deposit {
	var out queue.Deposit
	r.follow.Read(func(s *queue.State) {
		if d := s.Deposits[id]; d != nil {
			out = *d
		}
	})
	return out
}

// serverDeposit is the deposit as the server has it.
func (r *rig) serverDeposit(id string) queue.Deposit {
	var out queue.Deposit
	if err := r.srv.Actor().Query(context.Background(), func(s *queue.State) {
		if d := s.Deposits[id]; d != nil {
			out = *d
		}
	}); err != nil {
		r.t.Fatal(err)
	}
	return out
}

// typeCode types a code at the locker and, when the lock is pulsed, opens
// the door as a hand does; it returns what the screen is told.
func (r *rig) typeCode(code, compartment string) Outcome {
	r.t.Helper()
	out := make(chan Outcome, 1)
	go func() { out <- r.locker.Code(context.Background(), code) }()
	h := r.hw[compartment]
	if err := h.Pulsed(10 * time.Second); err != nil {
		r.t.Fatal(err)
	}
	h.Open()
	return <-out
}

// closeDoor closes compartment's door and waits for the locker to hear it.
func (r *rig) closeDoor(compartment string) {
	r.t.Helper()
	r.hw[compartment].Close()
	select {
	case c := <-r.closed:
		if c != compartment {
			r.t.Fatalf("compartment %s closed, want %s", c, compartment)
		}
	case <-time.After(10 * time.Second):
		r.t.Fatalf("the locker did not hear compartment %s close", compartment)
	}
}

// journal is the device's locker journal, entry by entry as "flow/phase".
func (r *rig) journal() []string {
	entries, err := r.db.LockerEntries(0, 0)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		s := string(e.Flow) + "/" + string(e.Phase)
		if e.Report != "" {
			s += "/" + e.Report
		}
		out = append(out, s)
	}
	return out
}

func (r *rig) pending() int {
	p, err := r.db.PendingLockerReports()
	if err != nil {
		r.t.Fatal(err)
	}
	return len(p)
}

// A clerk's code opens the reserved compartment; the door closing on the
// document stores it on the server. The resident's code then opens it;
// the door closing is the pickup. Each step is in the journal, and a code
// used never opens again.
func TestDepositThenPickup(t *testing.T) {
	r := newRig(t, Options{})
	d := r.reserve("dep-1", false)

	out := r.typeCode(d.clerk, d.compartment)
	if out.Kind != KindOpen || out.Compartment != d.compartment || !out.Clerk || out.Deposit != d.id {
		t.Fatalf("clerk code: %+v, want compartment %s open for the clerk", out, d.compartment)
	}
	if got := r.locker.Doors().Open; !slices.Equal(got, []string{d.compartment}) {
		t.Errorf("doors open %v, want %s", got, d.compartment)
	}
	r.closeDoor(d.compartment)
	r.waitFor("the deposit stored on the server", func() bool { return r.serverDeposit(d.id).State == queue.DepositStateStored })
	r.waitFor("the deposit stored on the device", func() bool { return r.deposit(d.id).State == queue.DepositStateStored })

	out = r.typeCode(d.pickup, d.compartment)
	if out.Kind != KindOpen || out.Compartment != d.compartment || out.Clerk {
		t.Fatalf("pickup code: %+v, want compartment %s open for the resident", out, d.compartment)
	}
	r.closeDoor(d.compartment)
	r.waitFor("the deposit picked up on the server", func() bool { return r.serverDeposit(d.id).State == queue.DepositStatePickedUp })
	if sd := r.serverDeposit(d.id); sd.Offline {
		t.Error("a pickup made online is marked offline")
	}
	want := []string{"deposit/closed/stored", "pickup/closed/picked-up"}
	if got := r.journal(); !slices.Equal(got, want) {
		t.Errorf("journal %v, want %v", got, want)
	}
	r.waitFor("no report pending", func() bool { return r.pending() == 0 })

	// The clerk's code again: it was used (the journal says so, whatever
	// the replica says), and nothing is pulsed.
	if out := r.locker.Code(context.Background(), d.clerk); out.Kind == KindOpen {
		t.Errorf("the clerk's code opened twice: %+v", out)
	}
	if !r.hw[d.compartment].NotPulsed() {
		t.Error("a used code pulsed the lock")
	}
}

// While the server is away the locker checks the code against its
// replica, opens, journals the pickup and reports it when the server is
// back, marked offline; the code does not open a second time meanwhile.
func TestOfflinePickupReportedLater(t *testing.T) {
	r := newRig(t, Options{})
	d := r.reserve("dep-off", false)
	if out := r.typeCode(d.clerk, d.compartment); out.Kind != KindOpen {
		t.Fatalf("clerk code: %+v", out)
	}
	r.closeDoor(d.compartment)
	r.waitFor("the deposit stored on the device", func() bool { return r.deposit(d.id).State == queue.DepositStateStored })
	// The stored event can reach the replica before the report's answer
	// reaches the journal: the report is acknowledged before the server
	// goes, so that only the pickup is left to hand in.
	r.waitFor("the stored report acknowledged", func() bool { return r.pending() == 0 })

	r.srv.Stop()
	r.waitFor("the device offline", func() bool { return !r.follow.Online() })
	out := r.typeCode(d.pickup, d.compartment)
	if out.Kind != KindOpen {
		t.Fatalf("pickup offline: %+v", out)
	}
	r.closeDoor(d.compartment)
	if again := r.locker.Code(context.Background(), d.pickup); again.Kind == KindOpen {
		t.Fatalf("the pickup code opened twice while offline: %+v", again)
	}
	if !r.hw[d.compartment].NotPulsed() {
		t.Error("a used code pulsed the lock")
	}
	if h := r.locker.Health(); h.Pending != 1 {
		t.Errorf("pending reports %d, want the pickup", h.Pending)
	}

	r.srv.Restart()
	r.waitFor("the offline pickup on the server", func() bool { return r.serverDeposit(d.id).State == queue.DepositStatePickedUp })
	if !r.serverDeposit(d.id).Offline {
		t.Error("the pickup made offline is not marked offline on the server")
	}
	r.waitFor("no report pending", func() bool { return r.pending() == 0 })
}

// A lock pulsed whose door does not open is a fault the health report
// shows (and the screen offers a retry); the retry opens, and the fault
// ends with the door opening.
func TestLockFailedThenRetry(t *testing.T) {
	r := newRig(t, Options{OpenWithin: 300 * time.Millisecond})
	d := r.reserve("dep-stuck", false)
	h := r.hw[d.compartment]

	out := make(chan Outcome, 1)
	go func() { out <- r.locker.Code(context.Background(), d.clerk) }()
	if err := h.Pulsed(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	got := <-out
	if got.Kind != KindLockFailed || got.Compartment != d.compartment {
		t.Fatalf("a lock that does not open: %+v", got)
	}
	select {
	case <-r.faults:
	case <-time.After(5 * time.Second):
		t.Fatal("a failed lock did not ask for a health report")
	}
	if hl := r.locker.Health(); !slices.Equal(hl.LocksFailed, []string{d.compartment}) {
		t.Errorf("health: locks failed %v, want %s", hl.LocksFailed, d.compartment)
	}

	go func() { out <- r.locker.Retry(context.Background(), d.id) }()
	if err := h.Pulsed(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	h.Open()
	if got := <-out; got.Kind != KindOpen {
		t.Fatalf("retry: %+v", got)
	}
	if hl := r.locker.Health(); len(hl.LocksFailed) != 0 {
		t.Errorf("health after the door opened: locks failed %v", hl.LocksFailed)
	}
	r.closeDoor(d.compartment)
	r.waitFor("the deposit stored on the server", func() bool { return r.serverDeposit(d.id).State == queue.DepositStateStored })
	want := []string{"deposit/closed/stored", "fault/noted/lock-failed"}
	if got := r.journal(); !slices.Equal(got, want) {
		t.Errorf("journal %v, want %v", got, want)
	}
}

// A door opened without a pulse is forced; a door left open alarms; both
// are faults in the health report, each asked for at once, reported, and
// the door's closing is reported too.
func TestForcedDoorLeftOpen(t *testing.T) {
	r := newRig(t, Options{DoorAlarm: func() time.Duration { return 300 * time.Millisecond }})
	id := r.srv.Office.Lockers[0].Compartments[0].ID
	h := r.hw[id]
	h.Open()
	for _, fault := range []string{"forced", "left open"} {
		select {
		case <-r.faults:
		case <-time.After(10 * time.Second):
			t.Fatalf("the door %s asked for no health report", fault)
		}
	}
	hl := r.locker.Health()
	if !slices.Equal(hl.DoorsForced, []string{id}) || !slices.Equal(hl.DoorsAlarm, []string{id}) || !slices.Equal(hl.DoorsOpen, []string{id}) {
		t.Errorf("health %+v, want compartment %s open, alarming and forced", hl, id)
	}
	if ds := r.locker.Doors(); !slices.Equal(ds.Alarm, []string{id}) {
		t.Errorf("the screen's doors %+v, want %s alarming", ds, id)
	}
	h.Close()
	r.waitFor("the door closed", func() bool { return len(r.locker.Health().DoorsOpen) == 0 })
	hl = r.locker.Health()
	if len(hl.DoorsAlarm) != 0 || !slices.Equal(hl.DoorsForced, []string{id}) {
		t.Errorf("health after closing %+v: the alarm ends, the forced door stays until staff open it", hl)
	}
	r.waitFor("the faults reported", func() bool { return r.pending() == 0 })
	want := []string{"fault/noted/door-forced", "fault/noted/door-left-open", "fault/noted/door-closed"}
	if got := r.journal(); !slices.Equal(got, want) {
		t.Errorf("journal %v, want %v", got, want)
	}
}

// Unknown codes slow the next person down, never lock them out: after
// three in a row each try waits twice as long as the one before, at most
// 30 s, and ten quiet minutes forget them. Wrong secrets block their code
// after five tries, until staff issue a new one. Both survive a restart.
func TestThrottle(t *testing.T) {
	clock := testclock.New(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	r := newRig(t, Options{Now: clock.Now})
	clock.Set(r.srv.Clock.Now())
	d := r.reserve("dep-guess", false)
	unknown := func() string {
		// A well-formed code whose lookup no live code has.
		for {
			c, _, err := queue.NewLockerCode(nil, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			if c[:3] != d.clerk[:3] && c[:3] != d.pickup[:3] {
				return c
			}
		}
	}
	for i, wantWait := range []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second} {
		out := r.locker.Code(context.Background(), unknown())
		if out.Kind != KindWrong || out.Wait != wantWait {
			t.Fatalf("unknown code %d: %+v, want wrong and the next try after %v", i+1, out, wantWait)
		}
		if wantWait > 0 {
			if early := r.locker.Code(context.Background(), d.pickup); early.Kind != KindWait || early.Wait != wantWait {
				t.Fatalf("a try at once after unknown code %d: %+v, want to wait %v", i+1, early, wantWait)
			}
			if i == 3 {
				r.restart()
				if early := r.locker.Code(context.Background(), d.pickup); early.Kind != KindWait || early.Wait != wantWait {
					t.Fatalf("after a restart: %+v, want the wait of %v kept", early, wantWait)
				}
			}
			clock.Set(clock.Now().Add(wantWait))
		}
	}
	clock.Set(clock.Now().Add(QuietReset))
	for i := 1; i < MaxWrongTries; i++ {
		if out := r.locker.Code(context.Background(), wrongSecret(d.clerk)); out.Kind != KindWrong || out.Wait != 0 {
			t.Fatalf("wrong secret %d after ten quiet minutes: %+v, want wrong without a wait", i, out)
		}
	}
	r.restart()
	if out := r.locker.Code(context.Background(), wrongSecret(d.clerk)); out.Kind != KindBlocked {
		t.Fatalf("wrong secret %d (after a restart): %+v, want the code blocked", MaxWrongTries, out)
	}
	if out := r.locker.Code(context.Background(), d.clerk); out.Kind != KindBlocked {
		t.Fatalf("the right code once blocked: %+v, want blocked", out)
	}
	if !r.hw[d.compartment].NotPulsed() {
		t.Error("a blocked code pulsed the lock")
	}
	// A new clerk code from staff opens.
	code, hash, err := queue.NewLockerCode(func(l string) bool { return l == d.pickup[:3] }, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if res := r.srv.Actor().Do(context.Background(), "test", queue.ReplaceLockerCode{Deposit: d.id, Which: queue.ClerkCodeKind, Code: hash, Until: clock.Now().Add(queue.ClerkCodeValid)}); res.Err != nil {
		t.Fatal(res.Err)
	}
	r.waitFor("the new code on the device", func() bool { return r.deposit(d.id).ClerkCode.Lookup == hash.Lookup })
	if out := r.typeCode(code, d.compartment); out.Kind != KindOpen {
		t.Fatalf("the new clerk code: %+v", out)
	}
}

// wrongSecret is code with its secret changed: same lookup.
func wrongSecret(code string) string {
	c, _ := queue.NormalizeLockerCode(code)
	last := c[len(c)-1]
	alphabet := queue.BookingCodeAlphabet
	for i := range len(alphabet) {
		if alphabet[i] != last {
			return c[:len(c)-1] + string(alphabet[i])
		}
	}
	panic(fmt.Sprintf("no other character than %c", last))
}

// A power cut while a door stands open leaves the opening in the journal;
// at the next start the door, closed meanwhile, ends it and the server is
// told. A cut after the opening was journalled and before the door was
// seen to open leaves it interrupted, and the code used.
func TestPowerCutMidOpen(t *testing.T) {
	r := newRig(t, Options{})
	d := r.reserve("dep-cut", false)
	if out := r.typeCode(d.clerk, d.compartment); out.Kind != KindOpen {
		t.Fatalf("clerk code: %+v", out)
	}
	r.stop()
	db, err := store.OpenDeviceReadOnly(r.path)
	if err != nil {
		t.Fatal(err)
	}
	r.db = db
	got := r.journal()
	db.Close()
	if !slices.Equal(got, []string{"deposit/open"}) {
		t.Fatalf("journal at the cut %v, want the deposit open", got)
	}
	// The door closes while the device is off.
	h := r.hw[d.compartment]
	h.Door.Out(gpio.Low)
	r.start()
	r.waitFor("the deposit stored on the server", func() bool { return r.serverDeposit(d.id).State == queue.DepositStateStored })
	if got := r.journal(); !slices.Equal(got, []string{"deposit/closed/stored"}) {
		t.Errorf("journal after the restart %v", got)
	}
	r.waitFor("the device's replica stored", func() bool { return r.deposit(d.id).State == queue.DepositStateStored })

	// Cut between the journal's "opening" and the door: the pickup's
	// entry stays, the door never opened.
	out := make(chan Outcome, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { out <- r.locker.Code(ctx, d.pickup) }()
	if err := h.Pulsed(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	r.stop() // nothing is written after this
	cancel()
	<-out
	r.start()
	got = r.journal()
	if len(got) != 2 || got[1] != "pickup/interrupted" {
		t.Fatalf("journal after a cut mid-opening %v, want the pickup interrupted", got)
	}
	if out := r.locker.Code(context.Background(), d.pickup); out.Kind == KindOpen {
		t.Errorf("an interrupted opening's code opened again: %+v", out)
	}
	if !h.NotPulsed() {
		t.Error("an interrupted opening's code pulsed the lock")
	}
}

// A document that needs a second factor cannot be picked up while the
// server is away: the screen says so, nothing opens, and the code stays
// good for when the server is back.
func TestSecondFactorNeedsTheServer(t *testing.T) {
	r := newRig(t, Options{})
	d := r.reserve("dep-id-card", true)
	if out := r.typeCode(d.clerk, d.compartment); out.Kind != KindOpen {
		t.Fatalf("clerk code: %+v", out)
	}
	r.closeDoor(d.compartment)
	r.waitFor("the deposit stored on the device", func() bool { return r.deposit(d.id).State == queue.DepositStateStored })
	r.srv.Stop()
	r.waitFor("the device offline", func() bool { return !r.follow.Online() })
	out := r.locker.Code(context.Background(), d.pickup)
	if out.Kind != KindSecondFactorOffline || out.Deposit != d.id {
		t.Fatalf("a second-factor pickup offline: %+v, want second-factor-offline", out)
	}
	if !r.hw[d.compartment].NotPulsed() {
		t.Error("a pickup without its second factor pulsed the lock")
	}
	if got := r.journal(); !slices.Equal(got, []string{"deposit/closed/stored"}) {
		t.Errorf("journal %v: the pickup must not be journalled", got)
	}
	if out := r.locker.SecondFactor(context.Background(), d.id, "123456"); out.Kind == KindOpen {
		t.Errorf("a one-time code nobody sent opened: %+v", out)
	}
}
