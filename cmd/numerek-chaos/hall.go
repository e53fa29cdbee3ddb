package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/numerek/numerek/audio"
	"github.com/numerek/numerek/audio/audiotest"
	"github.com/numerek/numerek/audio/voicepacks"
	"github.com/numerek/numerek/internal/faultproxy"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
)

// captureSpeed is how many times faster than real time the recorded
// speaker plays: the calls are the same samples, sooner.
const captureSpeed = 3

// call is one call the clerks made, and what the hall should say for it.
type call struct {
	number  string
	counter int
	// speech is the spoken call; opening is the chime and the speech, as
	// the first call after a quiet moment is said.
	speech, opening []int16
}

// runHallKill is the third part: a hall kioskd, its speaker recorded,
// killed while a backlog of calls is being said, and started again.
func runHallKill(ctx context.Context, s settings, rep *report) error {
	dir := filepath.Join(s.work, s.store, "hall")
	clock := newOfficeClock("2026-11-23T09:00:00")
	storeURL, err := s.officeStore(ctx, "hall")
	if err != nil {
		return err
	}
	o, err := newOffice(filepath.Join(s.bin, "queue-server"), filepath.Join(dir, "server"), storeURL, s.echo, clock.now, map[string][]string{
		"kiosk": {"--role", "ticket", "--label", "kiosk"},
		"clerk": {"--role", "clerk", "--label", "anna"},
		"hall":  {"--role", "hall", "--label", "hall"},
	})
	if err != nil {
		return err
	}
	if err := o.start(); err != nil {
		return err
	}
	defer func() { o.proc.kill() }()
	var office queue.Office
	if _, err := o.api(ctx, http.DefaultClient, "clerk", "GET", "/config", "", &office); err != nil {
		return err
	}
	voices, err := voicepacks.Load(audio.DefaultRate, nil)
	if err != nil {
		return err
	}
	for i := range s.backlog {
		body := fmt.Sprintf(`{"service":"family","lang":"pl","request_id":"hall-%d"}`, i)
		if _, err := o.api(ctx, http.DefaultClient, "kiosk", "POST", "/tickets", body, nil); err != nil {
			return err
		}
	}
	for _, c := range []int{1, 2} {
		if _, err := o.api(ctx, http.DefaultClient, "clerk", "POST", fmt.Sprintf("/counters/%d/open", c), "", nil); err != nil {
			return err
		}
	}

	// The hall reaches the server through a proxy, which the full run
	// cuts silently once the calls are said.
	proxy, err := faultproxy.Listen("127.0.0.1:0", o.addr)
	if err != nil {
		return err
	}
	defer proxy.Close()
	config, err := writeDeviceConfig(filepath.Join(dir, "device"), "chaos-hall", "hall", "http://"+proxy.Addr(), o.tokenFile("hall"), "[sound]\nenabled = true\n")
	if err != nil {
		return err
	}
	kioskdBin := filepath.Join(s.bin, "kioskd")
	first, err := newCapture(filepath.Join(dir, "capture-1"))
	if err != nil {
		return err
	}
	defer first.Stop()
	hall, err := startKioskd(kioskdBin, config, "chaos-hall", first.Env(), s.echo)
	if err != nil {
		return err
	}
	following := func(h *kioskd) error {
		return waitFor("the hall following the server", 20*time.Second, func() bool {
			p, err := h.page()
			return err == nil && p.Follow.Online
		})
	}
	if err := following(hall); err != nil {
		hall.kill()
		return err
	}

	// The clerks of counters 1 and 2 call the whole backlog at once.
	var calls []call
	total := 0
	for i := range s.backlog {
		counter := 1 + i%2
		var tr protocol.TicketResponse
		if _, err := o.api(ctx, http.DefaultClient, "clerk", "POST", fmt.Sprintf("/counters/%d/next", counter), "", &tr); err != nil {
			hall.kill()
			return err
		}
		ann, err := voices.Compose(audio.Call{Lang: office.DefaultLanguage(), Ticket: tr.Ticket.Number, Counter: counter, CounterWord: office.Rules.CounterWord})
		if err != nil {
			hall.kill()
			return err
		}
		c := call{number: tr.Ticket.Number, counter: counter, speech: ann.Speech.Samples, opening: voices.Render(ann).Samples}
		total += len(c.speech)
		calls = append(calls, c)
	}
	// Killed somewhere in the middle of saying them.
	average := total / len(calls)
	at := (1 + s.rng.IntN(max(1, len(calls)-2))) * average
	at += s.rng.IntN(average)
	err = waitFor("the hall saying the calls", 120*time.Second, func() bool { return soundSince(first.Samples()) >= at })

	hall.kill()
	if err != nil {
		return err
	}
	heard := [][]float32{nil, nil}
	if heard[0], err = first.Stop(); err != nil {
		return err
	}

	second, err := newCapture(filepath.Join(dir, "capture-2"))
	if err != nil {
		return err
	}
	defer second.Stop()
	hall, err = startKioskd(kioskdBin, config, "chaos-hall", second.Env(), s.echo)
	if err != nil {
		return err
	}
	if err := following(hall); err != nil {
		hall.kill()
		return err
	}
	// Let it say what it has to say: done when the speaker has been quiet
	// for a while.
	quietFor := 3 * time.Second
	if err := waitFor("the restarted hall to fall quiet", 120*time.Second, quiet(second, quietFor)); err != nil {
		hall.kill()
		return err
	}
	if s.cuts > 1 {
		stale, err := silentCut(ctx, o, hall, proxy, staleLimit(s), 1)
		if err != nil {
			hall.kill()
			return err
		}
		rep.worst("stale", stale.seconds, "hall, silent cut: "+stale.String())
	}
	hall.stop()
	if heard[1], err = second.Stop(); err != nil {
		return err
	}

	rep.measured("unsaid", "said-twice")
	said := make([]int, len(calls))
	for _, got := range heard {
		for i, n := range whichCalls(got, calls) {
			said[i] += n
		}
	}
	before, ends := findCalls(heard[0], calls)
	killedAt := len(heard[0])
	sum := func(ns []int) int {
		t := 0
		for _, n := range ns {
			t += n
		}
		return t
	}
	for i, c := range calls {
		switch {
		case said[i] == 0:
			rep.add("unsaid", 1, fmt.Sprintf("%s to counter %d was never said (the hall was killed after saying %d of %d calls)", c.number, c.counter, sum(before), len(calls)))
		case said[i] > 1:
			extra := said[i] - 1
			if before[i] > 0 && killedAt-ends[i] < samplesWithin(unknowable) {
				// Its end reached the speaker so shortly before the kill that
				// the hall could not yet know it was heard: said again by
				// design (better twice than never), not counted.
				extra--
				rep.note("hall: %s ended %.2f s of the hall's time before the kill, within the speaker's latency: said again by design",
					c.number, float64(killedAt-ends[i])/float64(audio.DefaultRate)/captureSpeed)
			}
			if extra > 0 {
				why := ""
				if before[i] > 0 {
					why = fmt.Sprintf(" (its first saying ended %.2f s of the hall's time before the kill)",
						float64(killedAt-ends[i])/float64(audio.DefaultRate)/captureSpeed)
				}
				rep.add("said-twice", float64(extra), fmt.Sprintf("%s to counter %d was said %d times%s", c.number, c.counter, said[i], why))
			}
		}
	}
	rep.note("hall: %d calls at once; killed after saying %d of them; %d said in all, by both lives of the hall",
		len(calls), sum(before), sum(said))
	return nil
}

// newCapture makes a recording sound device in dir, for one life of the
// hall.
func newCapture(dir string) (*audiotest.Capture, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return audiotest.New(dir, audio.DefaultRate, captureSpeed)
}

// soundSince counts the samples recorded from the first sound on.
func soundSince(got []float32) int {
	for i, v := range got {
		if v != 0 {
			return len(got) - i
		}
	}
	return 0
}

// quiet holds once the capture has had sound and then none for d, or
// has had no sound at all for twice d.
func quiet(c *audiotest.Capture, d time.Duration) func() bool {
	start := time.Now()
	lastLen, lastSound := 0, time.Now()
	return func() bool {
		got := c.Samples()
		for _, v := range got[min(lastLen, len(got)):] {
			if v != 0 {
				lastSound = time.Now()
				break
			}
		}
		lastLen = len(got)
		if soundSince(got) == 0 {
			return time.Since(start) > 2*d
		}
		return time.Since(lastSound) > d
	}
}

// whichCalls finds in a recording the calls said in full, and counts
// each: at every sound, a call's speech (or the chime and its speech)
// must follow sample for sample; a chime or a call cut short is passed
// over.
func whichCalls(got []float32, calls []call) []int {
	counts, _ := findCalls(got, calls)
	return counts
}

// unknowable is how long before a kill a call may end and still be said
// again after the restart: the hall counts a call as said only once its
// last sample has passed the speaker's buffers (audio.OtoSink.Latency:
// 250 ms of read-ahead and twice the hall's 50 ms device buffer) and the
// record of it is on disk. Ending inside it, a call is heard but not yet
// known to be: saying it again is the hall's design.
const unknowable = 350*time.Millisecond + 150*time.Millisecond

// samplesWithin is how many samples the capture records in d of the
// hall's time: the capture reads captureSpeed times faster than a sound
// card, so the hall's latency and its write to disk, both wall time, pass
// over that many more samples.
func samplesWithin(d time.Duration) int {
	return int(d.Seconds() * float64(audio.DefaultRate) * captureSpeed)
}

// findCalls is whichCalls with, for each call found, where in got its
// last saying ended.
func findCalls(got []float32, calls []call) (counts, ends []int) {
	counts = make([]int, len(calls))
	ends = make([]int, len(calls))
	gap := audio.DefaultRate / 5
	pos := 0
	for {
		for pos < len(got) && got[pos] == 0 {
			pos++
		}
		if pos >= len(got) {
			return counts, ends
		}
		found := false
		for i, c := range calls {
			for _, want := range [][]int16{c.opening, c.speech} {
				if end, _, err := audiotest.Find(got, pos, want); err == nil {
					counts[i]++
					ends[i] = end
					pos, found = end, true
					break
				}
			}
			if found {
				break
			}
		}
		if found {
			continue
		}
		// Not a whole call: pass this sound over, to the next pause.
		for silent := 0; pos < len(got) && silent < gap; pos++ {
			if got[pos] == 0 {
				silent++
			} else {
				silent = 0
			}
		}
	}
}
