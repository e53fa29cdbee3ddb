package device

import (
	"log/slog"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	numerek "github.com/numerek/numerek"
	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/display"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// busyMorning is the example office (Starachowice) at 10:00 with every
// counter open and serving and 60 residents waiting across its services.
func busyMorning(b testing.TB) (*queue.State, time.Time) {
	data, err := numerek.ExampleOffices.ReadFile(numerek.DefaultOfficeFile)
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := officeconfig.Parse(numerek.DefaultOfficeFile, data)
	if err != nil {
		b.Fatal(err)
	}
	o := cfg.Offices[0]
	s := queue.NewState(o)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, o.Location)
	for _, c := range o.Counters {
		mustDo(b, s, now, queue.SetCounter{Counter: c.Number, Status: queue.CounterOpenStatus})
	}
	for i := range 60 {
		svc := o.Services[i%len(o.Services)]
		mustDo(b, s, now, queue.Issue{Service: svc.ID, Lang: "pl", Channel: queue.ChannelKiosk})
	}
	for _, c := range o.Counters {
		mustDo(b, s, now, queue.CallNext{Counter: c.Number})
	}
	return s, now
}

func mustDo(b testing.TB, s *queue.State, now time.Time, cmd queue.Command) []queue.Event {
	events, _, err := s.Execute(now, "bench", cmd)
	if err != nil {
		b.Fatalf("%s: %v", queue.String(cmd), err)
	}
	return events
}

// benchHall is a hall device without its window and follower (the
// benchmark folds the events itself): its data file and clock, its screen
// and its herald, sound off.
func benchHall(b *testing.B, o *queue.Office, now time.Time) (*hallScreen, *herald) {
	db, err := store.OpenDevice(filepath.Join(b.TempDir(), DataFile))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	client, err := protocol.NewClient("http://127.0.0.1:1", o.ID, "token", protocol.ClientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	clock := replica.NewClock(time.Until(now)) // office time
	d := &dev{
		cfg: &config.Config{Role: config.RoleHall, Sound: config.Sound{AnnounceWithin: time.Hour}},
		log: slog.New(slog.DiscardHandler), db: db, clock: clock, client: client,
	}
	hall := display.NewHall(display.HallConfig{Panel: display.LandscapeHD, Location: o.Location, Now: clock.Now})
	h, err := newHerald(d)
	if err != nil {
		b.Fatal(err)
	}
	return &hallScreen{d: d, screen: hall, herald: h, now: clock.Now}, h
}

// BenchmarkHallReactsToACall: a clerk's "next" in a busy office (the
// counter finishes, a resident joins, the counter calls), folded in; then
// what the hall does about it until its screen has the view and its herald
// the call: the device's side of a call, without the network and the
// frame. Reported per call in µs: the time it takes (most of it the
// herald's record of the call synced to disk, so a restart does not say
// it again) and the CPU the process spends meanwhile.
func BenchmarkHallReactsToACall(b *testing.B) {
	s, now := busyMorning(b)
	hs, h := benchHall(b, s.Office, now)
	counters := s.Office.Counters
	react := func(n news) {
		if show := hs.react(s, n); show != nil {
			show()
		}
	}
	react(news{Change: replica.Change{From: s.Seq, To: s.Seq, Reset: true, Parts: queue.AllParts, Online: true, OnlineChanged: true}})
	var took, cpu time.Duration
	for i := 0; b.Loop(); i++ {
		now = now.Add(3 * time.Second) // 1000 calls in 50 minutes: the office stays open
		c := counters[i%len(counters)].Number
		svc := s.Office.Services[i%len(s.Office.Services)].ID
		ch := replica.Change{From: s.Seq, Online: true}
		for _, cmd := range []queue.Command{
			queue.Finish{Counter: c},
			queue.Issue{Service: svc, Lang: "pl", Channel: queue.ChannelKiosk},
			queue.CallNext{Counter: c},
		} {
			for _, e := range mustDo(b, s, now, cmd) {
				ch.Parts |= queue.PartsOf(e.Body)
			}
		}
		ch.To = s.Seq
		hs.d.clock.Observe(now, time.Now())
		t0, c0 := time.Now(), cpuTime()
		react(news{Change: ch})
		took += time.Since(t0)
		cpu += cpuTime() - c0
		if h.cursor() != s.Seq {
			b.Fatalf("the herald has the call at %d, the state is at %d", h.cursor(), s.Seq)
		}
	}
	b.ReportMetric(float64(took.Microseconds())/float64(b.N), "us/call")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/call")
}

// cpuTime is the CPU the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
