package main

import (
	"encoding/json"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/audio"
	"github.com/numerek/numerek/audio/audiotest"
	"github.com/numerek/numerek/audio/voicepacks"
	"github.com/numerek/numerek/internal/scrape"
	"github.com/numerek/numerek/protocol"
)

var amber = [3]uint8{0xff, 0xc2, 0x1a}

// captureSpeed is how many times faster than real time the recorded
// speaker plays where a test only listens: the calls are the same samples,
// sooner.
const captureSpeed = 3

// A clerk's call through the API: the hall shows the new call (blinking),
// and its speaker says it in Polish and, as the example office wants, in
// the ticket's language (Ukrainian): exactly the composed announcement
// reaches the sound device. Restarted, the hall does not say it again.
func TestHallShowsAndSaysACall(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOffice(t)
	// Recorded at real speed: this test also watches the blink, whose
	// frames a hall feeding its speaker three times as fast can miss on a
	// loaded machine.
	capture, err := audiotest.New(t.TempDir(), audio.DefaultRate, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer capture.Stop()
	hall := startDevice(t, o, "hall", "hall", "hall", "[sound]\nenabled = true\n", capture.Env()...)
	before := hall.waitFrame("with the office", 10*time.Second, func(image.Image) bool { return true })
	left := image.Rect(0, 150, before.Bounds().Dx()/2, before.Bounds().Dy()/2)
	if s := share(before, left, amber, 8); s > 0.01 {
		t.Fatalf("amber (a new call) on the hall before any call: %.2f", s)
	}

	o.api(o.tokens["counter1"], "POST", "/counters/1/open", "", nil)
	var issued protocol.TicketResponse
	o.api(o.tokens["kiosk"], "POST", "/tickets", `{"service":"family","lang":"uk","request_id":"e2e-1"}`, &issued)
	var called protocol.TicketResponse
	o.api(o.tokens["counter1"], "POST", "/counters/1/next", "", &called)
	if called.Ticket.Number != issued.Ticket.Number {
		t.Fatalf("called %s, issued %s", called.Ticket.Number, issued.Ticket.Number)
	}

	hall.waitFrame("with the new call blinking", 5*time.Second, func(img image.Image) bool { return share(img, left, amber, 8) > 0.3 })
	after := hall.waitFrame("after the blink", 15*time.Second, func(img image.Image) bool { return share(img, left, amber, 8) < 0.01 })
	if d := differ(before, after, left); d < 0.05 {
		t.Errorf("the call's part of the hall changed in %.3f of its pixels: the number is not shown", d)
	}
	waitUntil(t, "the call announced", 5*time.Second, func() bool {
		var rs struct {
			LastAnnounced uint64 `json:"last_announced"`
		}
		json.Unmarshal(hall.statusPage().RoleStatus, &rs)
		return rs.LastAnnounced > 0
	})
	voices, err := voicepacks.Load(audio.DefaultRate, nil)
	if err != nil {
		t.Fatal(err)
	}
	var anns []audio.Announcement
	for _, c := range []audio.Call{
		{Lang: "pl", Ticket: called.Ticket.Number, Counter: 1, CounterWord: "stanowisko"},
		{Lang: "uk", Ticket: called.Ticket.Number, Counter: 1},
	} {
		a, err := voices.Compose(c)
		if err != nil {
			t.Fatal(err)
		}
		anns = append(anns, a)
	}
	want := voices.Render(anns...).Samples
	// Once the speech has played out the hall stops, and the capture holds
	// what the sound device received.
	waitUntil(t, "the announcement played", 10*time.Second, func() bool {
		_, _, err := audiotest.Find(capture.Samples(), 0, want)
		return err == nil
	})
	// Its metrics count both announcements (pl, uk), as its log does.
	waitUntil(t, "the announcements counted", 5*time.Second, func() bool {
		page, err := scrape.Get("http://"+hall.status+"/metrics", "")
		if err != nil {
			t.Fatal(err)
		}
		said, _ := page.Sum("kioskd_calls_said_total", nil)
		return said == 2 && strings.Count(hall.logText(), "msg=said") == 2
	})
	hall.stop()
	got, err := capture.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if _, inserted, err := audiotest.Find(got, 0, want); err != nil {
		t.Fatalf("the announcement (pl, then uk) is not what the sound device received: %v (%d samples captured)", err, len(got))
	} else if inserted > len(want)/4 {
		t.Errorf("%d samples of dropouts in %d", inserted, len(want))
	}

	// The hall logs each call it announces (sound or not)...
	if n := strings.Count(hall.logText(), `msg=called`); n != 1 {
		t.Errorf("the hall logged %d calls, want 1", n)
	}
	// ...and, restarted on the same data (with a sound device of its
	// own: the first one's reader is gone), it shows the call but does not
	// announce it again, not even once it has folded in a later event.
	silence, err := audiotest.New(t.TempDir(), audio.DefaultRate, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer silence.Stop()
	again := runDevice(t, hall.cmd.Args[2], hall.frames, "hall", silence.Env()...)
	waitUntil(t, "the restarted hall following", 10*time.Second, func() bool { return again.statusPage().Follow.Online })
	resumed := again.statusPage().Follow.Seq
	o.api(o.tokens["kiosk"], "POST", "/tickets", `{"service":"family","lang":"pl","request_id":"after-restart"}`, nil)
	waitUntil(t, "the restarted hall to fold in a later ticket", 10*time.Second, func() bool {
		return again.statusPage().Follow.Seq > resumed
	})
	again.stop()
	if m := again.logText(); strings.Contains(m, `msg=called`) {
		t.Errorf("the restarted hall announced again:\n%s", m)
	}
	if got, err := silence.Stop(); err != nil {
		t.Fatal(err)
	} else if loud := slices.IndexFunc(got, func(v float32) bool { return v != 0 }); loud >= 0 {
		t.Errorf("the restarted hall's sound device received sound (sample %d of %d)", loud, len(got))
	}
}

var red = [3]uint8{0xb4, 0x1c, 0x1c}

// The server goes away: after a few seconds the hall says it cannot reach
// the server and keeps showing the last state, even when the hall itself
// restarts meanwhile; when the server is back the warning goes.
func TestHallSaysWhenOffline(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOffice(t)
	o.api(o.tokens["counter1"], "POST", "/counters/1/open", "", nil)
	o.api(o.tokens["kiosk"], "POST", "/tickets", `{"service":"family","lang":"pl","request_id":"off-1"}`, nil)
	o.api(o.tokens["counter1"], "POST", "/counters/1/next", "", nil)
	hall := startDevice(t, o, "hall", "hall", "hall", "[screen]\nblink = \"100ms\"\n[sound]\nenabled = false\n")
	banner := func(img image.Image) float64 {
		return share(img, image.Rect(0, 120, img.Bounds().Dx(), 190), red, 8)
	}
	hall.waitFrame("online with the call", 10*time.Second, func(img image.Image) bool { return banner(img) < 0.01 })
	o.proc.stop()
	offline := hall.waitFrame("saying it is offline", 15*time.Second, func(img image.Image) bool { return banner(img) > 0.5 })

	// Restarted without the server, the hall shows at once what it showed
	// before: the state kept on disk, and the warning.
	hall.stop()
	os.Remove(filepath.Join(hall.frames, "hall.png"))
	again := runDevice(t, hall.cmd.Args[2], hall.frames, "hall")
	restored := again.waitFrame("restored, offline", 15*time.Second, func(img image.Image) bool { return banner(img) > 0.5 })
	below := image.Rect(0, 200, offline.Bounds().Dx(), offline.Bounds().Dy())
	if d := differ(offline, restored, below); d > 0.01 {
		t.Errorf("the restarted hall differs from its last state in %.3f of the pixels", d)
	}

	o.restart()
	again.waitFrame("online again", 20*time.Second, func(img image.Image) bool { return banner(img) < 0.01 })
	waitUntil(t, "the hall following the server again", 10*time.Second, func() bool { return again.statusPage().Follow.Online })
}

// A backlog of calls, the hall killed (SIGKILL, as a power cut) once the
// first has been said: started again, it says the rest, each once, and
// not the first again. What reaches the sound device is the judge: every
// announcement is found exactly once in the capture, whole.
func TestHallKilledInABacklogSaysTheRestOnce(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOffice(t)
	capture, err := audiotest.New(t.TempDir(), audio.DefaultRate, captureSpeed)
	if err != nil {
		t.Fatal(err)
	}
	defer capture.Stop()
	hall := startDevice(t, o, "hall", "hall", "hall", "[sound]\nenabled = true\n", capture.Env()...)
	waitUntil(t, "the hall following the office", 10*time.Second, func() bool { return hall.statusPage().Follow.Online })

	// Four calls at once: the hall says them one after another, for some
	// ten seconds. The second ticket was taken in Ukrainian, so its call
	// is said in Polish and then in Ukrainian.
	o.api(o.tokens["counter1"], "POST", "/counters/1/open", "", nil)
	langs := []string{"pl", "uk", "pl", "pl"}
	for i, lang := range langs {
		o.api(o.tokens["kiosk"], "POST", "/tickets", fmt.Sprintf(`{"service":"family","lang":%q,"request_id":"backlog-%d"}`, lang, i), nil)
	}
	voices, err := voicepacks.Load(audio.DefaultRate, nil)
	if err != nil {
		t.Fatal(err)
	}
	type announcement struct {
		name   string
		speech []int16
	}
	var anns [][]announcement // per call, per language
	var numbers []string
	for i, lang := range langs {
		var called protocol.TicketResponse
		o.api(o.tokens["counter1"], "POST", "/counters/1/next", "", &called)
		numbers = append(numbers, called.Ticket.Number)
		calls := []audio.Call{{Lang: "pl", Ticket: called.Ticket.Number, Counter: 1, CounterWord: "stanowisko"}}
		if lang != "pl" {
			calls = append(calls, audio.Call{Lang: lang, Ticket: called.Ticket.Number, Counter: 1})
		}
		var per []announcement
		for _, c := range calls {
			a, err := voices.Compose(c)
			if err != nil {
				t.Fatal(err)
			}
			per = append(per, announcement{fmt.Sprintf("call %d (%s)", i+1, c), a.Speech.Samples})
		}
		anns = append(anns, per)
	}
	first := anns[0][0]

	// The first call heard, and recorded as said: then the power goes.
	waitUntil(t, "the first call said", 20*time.Second, func() bool {
		var rs struct {
			LastAnnounced uint64 `json:"last_announced"`
		}
		json.Unmarshal(hall.statusPage().RoleStatus, &rs)
		return rs.LastAnnounced > 0 && occurrences(capture.Samples(), first.speech) == 1
	})
	hall.kill()
	if strings.Count(hall.logText(), "msg=said") >= 5 {
		t.Fatal("the hall said every call before it was killed: the test proves nothing")
	}

	again := runDevice(t, hall.cmd.Args[2], hall.frames, "hall", capture.Env()...)
	waitUntil(t, "every call said after the restart", 40*time.Second, func() bool {
		got := capture.Samples()
		for _, per := range anns {
			for _, a := range per {
				if occurrences(got, a.speech) == 0 {
					return false
				}
			}
		}
		return true
	})
	// Let the restarted hall finish anything it would still say, then stop it.
	waitUntil(t, "the restarted hall with nothing left to say", 10*time.Second, func() bool {
		var rs struct {
			Unsaid int `json:"unsaid"`
		}
		json.Unmarshal(again.statusPage().RoleStatus, &rs)
		return rs.Unsaid == 0
	})
	again.stop()
	got, err := capture.Stop()
	if err != nil {
		t.Fatal(err)
	}
	for _, per := range anns {
		for _, a := range per {
			if n := occurrences(got, a.speech); n != 1 {
				t.Errorf("%s was heard %d times, want once", a.name, n)
			}
		}
	}
	if strings.Contains(again.logText(), "msg=said ticket="+numbers[0]+" ") {
		t.Errorf("the restarted hall said the first call (%s) again", numbers[0])
	}
}

// occurrences counts the places where want (16-bit samples as handed to
// the sound device) was captured whole in got.
func occurrences(got []float32, want []int16) int {
	i := 0
	for i < len(want) && want[i] == 0 {
		i++
	}
	if i == len(want) {
		return 0
	}
	lead := float32(want[i]) / 32768
	n := 0
	for j := 0; j < len(got); j++ {
		if got[j] != lead {
			continue
		}
		if end, _, err := audiotest.Find(got, j, want); err == nil {
			n++
			j = end - 1
		}
	}
	return n
}
