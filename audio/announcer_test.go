package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/audio/volume"
)

// pullSink is a sink the test drives: it pulls from the announcer's stream
// only when told to, as a sound device would, and keeps what it got.
type pullSink struct {
	rate     int
	src      io.Reader
	starts   int
	startErr error
	devErr   error
	got      []int16
}

func (s *pullSink) Rate() int  { return s.rate }
func (s *pullSink) Err() error { return s.devErr }
func (s *pullSink) Start(src io.Reader) error {
	if s.startErr != nil {
		return s.startErr
	}
	s.src = src
	s.starts++
	return nil
}

// pull reads up to n samples in device-sized reads; it stops early when the
// stream has nothing to say.
func (s *pullSink) pull(t *testing.T, n int) int {
	t.Helper()
	buf := make([]byte, 320) // 10 ms at 16 kHz
	got := 0
	for got < n {
		k, err := s.src.Read(buf[:2*min(160, n-got)])
		for i := 0; i+1 < k; i += 2 {
			s.got = append(s.got, int16(binary.LittleEndian.Uint16(buf[i:])))
		}
		got += k / 2
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		if k == 0 {
			break
		}
	}
	return got
}

// pullAll reads until the stream has nothing more to say.
func (s *pullSink) pullAll(t *testing.T) { s.pull(t, 1<<30) }

type fixedClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fixedClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fixedClock) Set(hhmm string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, _ := time.Parse("15:04", hhmm)
	c.now = time.Date(2026, 3, 2, t.Hour(), t.Minute(), 0, 0, time.Local)
}

func newTestAnnouncer(t *testing.T, opts AnnouncerOptions) (*Announcer, *pullSink, *Voices, *[]Call) {
	t.Helper()
	v, _ := loadTestVoices(t, "pl", "en")
	sink := &pullSink{rate: DefaultRate}
	var spoken []Call
	var mu sync.Mutex
	opts.OnSpeaking = func(c Call) { mu.Lock(); spoken = append(spoken, c); mu.Unlock() }
	if opts.Log == nil {
		opts.Log = discardLog()
	}
	a, err := NewAnnouncer(v, sink, opts)
	if err != nil {
		t.Fatal(err)
	}
	return a, sink, v, &spoken
}

func compose(t *testing.T, v *Voices, calls ...Call) []Announcement {
	t.Helper()
	var out []Announcement
	for _, c := range calls {
		a, err := v.Compose(c)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

var (
	callA = Call{Lang: "pl", Ticket: "A1", Counter: 1}
	callB = Call{Lang: "en", Ticket: "B2", Counter: 2}
	callC = Call{Lang: "pl", Ticket: "C3", Counter: 3, CounterWord: "kasa"}
)

// TestAnnouncerWaitingCallsBackToBack: calls arriving while one is said wait,
// in order, and follow it after the gap between calls with no second chime;
// nothing overlaps and nothing is lost.
func TestAnnouncerWaitingCallsBackToBack(t *testing.T) {
	a, sink, v, spoken := newTestAnnouncer(t, AnnouncerOptions{})
	if err := a.Announce(callA); err != nil {
		t.Fatal(err)
	}
	sink.pull(t, 4000) // a quarter second into the chime
	for _, c := range []Call{callB, callC} {
		if err := a.Announce(c); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.Waiting(); got != 2 {
		t.Errorf("Waiting() = %d, want 2", got)
	}
	sink.pullAll(t)
	want := v.Render(compose(t, v, callA, callB, callC)...).Samples
	if !reflect.DeepEqual(sink.got, want) {
		t.Fatalf("played %d samples that differ from one chime and the three calls back to back (%d)", len(sink.got), len(want))
	}
	if !reflect.DeepEqual(*spoken, []Call{callA, callB, callC}) {
		t.Errorf("OnSpeaking saw %v", *spoken)
	}
	if sink.starts != 1 {
		t.Errorf("sink started %d times, want once for the announcer's life", sink.starts)
	}
}

// TestAnnouncerChimeAfterIdle: a call arriving after the previous one ended
// opens with its own chime.
func TestAnnouncerChimeAfterIdle(t *testing.T) {
	a, sink, v, _ := newTestAnnouncer(t, AnnouncerOptions{})
	if err := a.Announce(callA); err != nil {
		t.Fatal(err)
	}
	sink.pullAll(t)
	if err := a.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := a.Announce(callB); err != nil {
		t.Fatal(err)
	}
	sink.pullAll(t)
	want := append(v.Render(compose(t, v, callA)...).Samples, v.Render(compose(t, v, callB)...).Samples...)
	if !reflect.DeepEqual(sink.got, want) {
		t.Fatal("second call after silence is not chime + call")
	}
}

// TestAnnouncerRecall: a recall of the ticket being said, or of one still
// waiting, is said again in full, not merged away.
func TestAnnouncerRecall(t *testing.T) {
	a, sink, v, spoken := newTestAnnouncer(t, AnnouncerOptions{})
	recall := callA
	recall.Recall = true
	if err := a.Announce(callA); err != nil {
		t.Fatal(err)
	}
	sink.pull(t, 100)
	for _, c := range []Call{recall, callB, recall} {
		if err := a.Announce(c); err != nil {
			t.Fatal(err)
		}
	}
	sink.pullAll(t)
	want := v.Render(compose(t, v, callA, recall, callB, recall)...).Samples
	if !reflect.DeepEqual(sink.got, want) {
		t.Fatal("recalls not said in full in order")
	}
	if len(*spoken) != 4 || !(*spoken)[1].Recall || !(*spoken)[3].Recall {
		t.Errorf("OnSpeaking saw %v", *spoken)
	}
}

// TestAnnouncerVolumeByTimeOfDay: each call is said at the volume of the
// time it starts.
func TestAnnouncerVolumeByTimeOfDay(t *testing.T) {
	clock := &fixedClock{}
	schedule, err := volume.NewSchedule([]volume.Step{{From: "08:00", Volume: 1}, {From: "18:00", Volume: 0.25}})
	if err != nil {
		t.Fatal(err)
	}
	a, sink, v, _ := newTestAnnouncer(t, AnnouncerOptions{Volume: schedule, Now: clock.Now})
	clock.Set("17:59")
	if err := a.Announce(callA); err != nil {
		t.Fatal(err)
	}
	sink.pull(t, 10)
	if err := a.Announce(callB); err != nil {
		t.Fatal(err)
	}
	clock.Set("18:00") // callB starts after callA, in the evening
	sink.pullAll(t)

	anns := compose(t, v, callA, callB)
	first := v.Render(anns[0]).Samples
	whole := v.Render(anns...).Samples
	want := append(append([]int16(nil), first...), Scale(whole[len(first):], 0.25)...)
	if !reflect.DeepEqual(sink.got, want) {
		t.Fatal("first call not at full volume and second at a quarter")
	}
	if p := peak(sink.got[len(first):]); p > 32768/4+1 {
		t.Errorf("evening call peaks at %d", p)
	}
}

// TestAnnouncerOnSpeakingAtFirstSound: the hall display hears of a call when
// its first sound goes to the device, not when it is queued.
func TestAnnouncerOnSpeakingAtFirstSound(t *testing.T) {
	a, sink, v, spoken := newTestAnnouncer(t, AnnouncerOptions{})
	if err := a.Announce(callA); err != nil {
		t.Fatal(err)
	}
	chimeStart := 0
	for Chime(DefaultRate).Samples[chimeStart] == 0 {
		chimeStart++
	}
	sink.pull(t, chimeStart)
	if len(*spoken) != 0 {
		t.Fatal("OnSpeaking before any sound was pulled")
	}
	sink.pull(t, 1)
	if len(*spoken) != 1 {
		t.Fatalf("OnSpeaking not called with the chime's start; saw %v", *spoken)
	}
	if err := a.Announce(callB); err != nil {
		t.Fatal(err)
	}
	first := len(v.Render(compose(t, v, callA)...).Samples)
	sink.pull(t, first-chimeStart-1+samplesFor(DefaultRate, CallGap)) // up to callB's first sample
	if len(*spoken) != 1 {
		t.Fatalf("callB reported before its first sound: %v", *spoken)
	}
	sink.pull(t, 2)
	if len(*spoken) != 2 {
		t.Fatalf("callB not reported at its first sound: %v", *spoken)
	}
}

func TestAnnouncerConcurrentCallsAllSaid(t *testing.T) {
	a, sink, _, spoken := newTestAnnouncer(t, AnnouncerOptions{})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Announce(Call{Lang: "pl", Ticket: fmt.Sprintf("A%d", i), Counter: i}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	sink.pullAll(t)
	seen := map[string]bool{}
	for _, c := range *spoken {
		seen[c.Ticket] = true
	}
	if len(*spoken) != 20 || len(seen) != 20 {
		t.Errorf("said %d calls (%d distinct), want all 20 once", len(*spoken), len(seen))
	}
}

func TestAnnouncerStopAndClose(t *testing.T) {
	log, logs := newLogBuffer()
	a, sink, _, _ := newTestAnnouncer(t, AnnouncerOptions{Log: log})
	for _, c := range []Call{callA, callB, callC} {
		if err := a.Announce(c); err != nil {
			t.Fatal(err)
		}
	}
	sink.pull(t, 100)
	a.Stop()
	if n := sink.pull(t, 1000); n != 0 {
		t.Errorf("%d samples after Stop", n)
	}
	if !strings.Contains(logs.String(), "dropped=2") {
		t.Errorf("dropping not logged:\n%s", logs)
	}
	if err := a.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := sink.src.Read(make([]byte, 10)); !errors.Is(err, io.EOF) {
		t.Errorf("stream after Close: %v, want EOF", err)
	}
	if err := a.Announce(callA); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Announce after Close: %v", err)
	}
}

// TestAnnouncerTrouble: bad calls, a missing clip, no or a failing device are
// logged clearly, reported to the caller, and never panic or block.
func TestAnnouncerTrouble(t *testing.T) {
	v, _ := loadTestVoices(t, "pl")
	tests := []struct {
		name    string
		sink    Sink
		call    Call
		wantErr error
		errText string
		logText []string
	}{
		{"bad ticket", &pullSink{rate: DefaultRate}, Call{Lang: "pl", Ticket: "A1000", Counter: 1}, nil,
			"out of range", []string{`level=ERROR msg="call not announced"`, "A1000"}},
		{"language without pack", &pullSink{rate: DefaultRate}, Call{Lang: "uk", Ticket: "A1", Counter: 1}, nil,
			`no voice pack loaded for language "uk"`, []string{"call not announced"}},
		{"counter word without clip", &pullSink{rate: DefaultRate}, Call{Lang: "pl", Ticket: "A1", Counter: 1, CounterWord: "sala obrad"}, nil,
			"", []string{`level=WARN msg="voice pack lacks clips`, `missing="[sala obrad]"`}},
		{"no sound device", nil, callA, ErrNoSound, "no working sound device",
			[]string{`level=WARN msg="call not spoken"`, `call="pl A1 -> 1"`}},
		{"device failed", &pullSink{rate: DefaultRate, devErr: errors.New("ALSA: device unplugged")}, callA, ErrNoSound,
			"ALSA: device unplugged", []string{`level=ERROR msg="sound device failed"`, "device unplugged"}},
		{"device will not start", &pullSink{rate: DefaultRate, startErr: errors.New("oto: boom")}, callA, ErrNoSound,
			"oto: boom", []string{"sound device would not start", "oto: boom"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, logs := newLogBuffer()
			a, err := NewAnnouncer(v, tt.sink, AnnouncerOptions{Log: log})
			if err != nil {
				t.Fatal(err)
			}
			err = a.Announce(tt.call)
			switch {
			case tt.errText == "" && err != nil:
				t.Fatalf("Announce: %v", err)
			case tt.errText != "" && (err == nil || !strings.Contains(err.Error(), tt.errText)):
				t.Fatalf("Announce error = %v, want it to say %q", err, tt.errText)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("Announce error = %v, want it to wrap %v", err, tt.wantErr)
			}
			for _, want := range tt.logText {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, logs)
				}
			}
			// Nothing waits forever for a call that cannot be said.
			ctx, cancel := contextWithTimeout(t, 10*time.Second)
			defer cancel()
			if tt.errText != "" {
				if err := a.Wait(ctx); err != nil {
					t.Errorf("Wait after a refused call: %v", err)
				}
			}
		})
	}
}

func TestAnnouncerQueueBound(t *testing.T) {
	a, _, _, _ := newTestAnnouncer(t, AnnouncerOptions{MaxWaiting: 2})
	for i, want := range []bool{true, true, false} {
		err := a.Announce(callA)
		if (err == nil) != want {
			t.Errorf("call %d: error %v", i+1, err)
		}
	}
}

func TestAnnouncerRateMismatch(t *testing.T) {
	v, _ := loadTestVoices(t, "pl")
	_, err := NewAnnouncer(v, &pullSink{rate: 48000}, AnnouncerOptions{})
	if err == nil || !strings.Contains(err.Error(), "plays at 48000 Hz but the voices are loaded at 16000 Hz") {
		t.Fatalf("error = %v", err)
	}
}

// latencySink is a pullSink whose sound is heard latency after it is
// pulled.
type latencySink struct {
	*pullSink
	latency time.Duration
}

func (s latencySink) Latency() time.Duration { return s.latency }

// TestAnnouncerOnSaid: a call counts as said once its last sample has
// been handed out, not when it starts nor when it is queued; a call cut
// short by Stop is never reported; calls are reported in order.
func TestAnnouncerOnSaid(t *testing.T) {
	var said []Call
	a, sink, v, _ := newTestAnnouncer(t, AnnouncerOptions{OnSaid: func(c Call) { said = append(said, c) }})
	first, second, third := callA, callB, callC
	first.ID, second.ID, third.ID = "1", "2", "3"
	for _, c := range []Call{first, second} {
		if err := a.Announce(c); err != nil {
			t.Fatal(err)
		}
	}
	lenFirst := len(v.Render(compose(t, v, first)...).Samples)
	sink.pull(t, lenFirst-1)
	if len(said) != 0 {
		t.Fatalf("said %v before the first call's last sample was handed out", said)
	}
	sink.pull(t, 1)
	if !reflect.DeepEqual(said, []Call{first}) {
		t.Fatalf("said %v once the first call was handed out, want the first call (with its ID)", said)
	}
	sink.pull(t, 8000) // into the second call
	a.Stop()
	if err := a.Announce(third); err != nil {
		t.Fatal(err)
	}
	sink.pullAll(t)
	if !reflect.DeepEqual(said, []Call{first, third}) {
		t.Errorf("said %v, want the first and the third: the second was stopped halfway", said)
	}
}

// TestAnnouncerOnSaidAfterLatency: through a sink with buffers, a call is
// reported only once its last sample can have been heard, and Close
// waits for that report rather than losing it.
func TestAnnouncerOnSaidAfterLatency(t *testing.T) {
	v, _ := loadTestVoices(t, "pl", "en")
	sink := latencySink{&pullSink{rate: DefaultRate}, 300 * time.Millisecond}
	said := make(chan time.Time, 2)
	a, err := NewAnnouncer(v, sink, AnnouncerOptions{Log: discardLog(), OnSaid: func(Call) { said <- time.Now() }})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Announce(callA); err != nil {
		t.Fatal(err)
	}
	// The last sample is handed out inside pullAll: no earlier than
	// pulling, no later than its return.
	pulling := time.Now()
	sink.pullAll(t)
	handed := time.Now()
	select {
	case at := <-said:
		t.Fatalf("reported %v after the last sample was handed out, before the sink's latency", at.Sub(handed))
	default:
	}
	a.Close()
	select {
	case at := <-said:
		if at.Sub(pulling) < sink.latency {
			t.Errorf("reported %v after the last samples were pulled, want at least the sink's latency %v", at.Sub(pulling), sink.latency)
		}
	default:
		t.Fatal("Close returned without reporting the call heard to its end")
	}
}
