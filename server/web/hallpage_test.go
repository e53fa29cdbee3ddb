package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/audio"
	"github.com/numerek/numerek/audio/voicepacks"
	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/queue"
)

// hallOpenWithCall is the example office at 09:00 with counter 1 open
// and one family ticket called to it; it returns the call's seq.
func hallOpenWithCall(t *testing.T, e *env) (number string, seq uint64) {
	t.Helper()
	e.clock.Set(monday(e.office, "09:00"))
	e.do(queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})
	e.do(queue.Issue{Service: "family", Lang: "en", Channel: queue.ChannelKiosk})
	before := e.actor.Seq()
	r := e.do(queue.CallNext{Counter: 1})
	return r.Ticket.Number, before + 1
}

// firstHallEvent reads the first board of the hall's stream, resuming
// after lastID when it is not empty.
func firstHallEvent(t *testing.T, e *env, query, lastID string) (sse.Message, hallEvent) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/o/"+e.office.ID+"/hall/events"+query, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("hall stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var msg sse.Message
	errFirst := errorString("first")
	_ = sse.Read(resp.Body, func(m sse.Message) error { msg = m; return errFirst })
	var ev hallEvent
	if err := json.Unmarshal(msg.Data, &ev); err != nil {
		t.Fatalf("hall event %q: %v", msg.Data, err)
	}
	return msg, ev
}

type errorString string

func (e errorString) Error() string { return string(e) }

// What a hall that connects, or reconnects, is told: a new page's first
// board is history (shown, not said, no blink); a page resuming from
// before a call says it, clip by clip as audio composes it, and blinks; a
// page resuming from after it says nothing again; a call older than
// kioskd's announce window is shown but not said.
func TestHallStreamSaysWhatThePageMissed(t *testing.T) {
	e := newEnv(t)
	number, seq := hallOpenWithCall(t, e)
	voices, err := voicepacks.Load(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The example office also says a call in the ticket's language.
	var want []audio.Sequence
	for _, c := range voices.InBothLanguages(audio.Call{Lang: "pl", Ticket: number, Counter: 1, CounterWord: e.office.Rules.CounterWord}, "en", e.office.Rules.AnnounceTicketLanguage) {
		seq, err := voices.Sequence(c)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, seq)
	}
	if len(want) != 2 {
		t.Fatalf("the example office should say a call in Polish and the ticket's English, not %d languages", len(want))
	}
	for _, tc := range []struct {
		name   string
		lastID string
		later  time.Duration
		say    bool
		blink  bool
	}{
		{name: "new page", lastID: ""},
		{name: "resumed before the call", lastID: strconv.FormatUint(seq-1, 10), say: true, blink: true},
		{name: "resumed after the call", lastID: strconv.FormatUint(seq, 10)},
		{name: "resumed before a call too old to say", lastID: strconv.FormatUint(seq-1, 10), later: 3 * time.Minute, blink: true},
		{name: "resumed from a log the server no longer has", lastID: strconv.FormatUint(seq+100, 10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Set(monday(e.office, "09:00").Add(tc.later))
			msg, ev := firstHallEvent(t, e, "", tc.lastID)
			if msg.Event != "board" || msg.ID != strconv.FormatUint(e.actor.Seq(), 10) {
				t.Errorf("event %q id %q, want board with id %d", msg.Event, msg.ID, e.actor.Seq())
			}
			if !strings.Contains(ev.HTML, `id="hall-number">`+number+`<`) {
				t.Errorf("the board does not show %s as the newest call:\n%s", number, ev.HTML)
			}
			if ev.Blink != tc.blink {
				t.Errorf("blink %v, want %v", ev.Blink, tc.blink)
			}
			if !tc.say {
				if len(ev.Say) != 0 {
					t.Errorf("says %+v, want nothing", ev.Say)
				}
				return
			}
			if len(ev.Say) != len(want) {
				t.Fatalf("says %+v, want %d parts", ev.Say, len(want))
			}
			for i, said := range ev.Say {
				if said.Number != number || said.Counter != 1 {
					t.Errorf("says %s at %d, want %s at counter 1", said.Number, said.Counter, number)
				}
				lang := want[i].Call.Lang
				var got []string
				for j, c := range said.Clips {
					word, err := url.PathUnescape(c.URL[strings.LastIndex(c.URL, "/")+1:])
					if err != nil || !strings.HasPrefix(c.URL, "/o/"+e.office.ID+"/hall/voice/"+lang+"/") {
						t.Errorf("clip %q", c.URL)
					}
					got = append(got, word)
					if j < len(want[i].Steps) && c.PauseMS != want[i].Steps[j].Pause.Milliseconds() {
						t.Errorf("pause before %q %d ms, want %v", word, c.PauseMS, want[i].Steps[j].Pause)
					}
				}
				if strings.Join(got, " ") != strings.Join(want[i].Words(), " ") {
					t.Errorf("says in %s %v, want %v", lang, got, want[i].Words())
				}
			}
		})
	}
}

// The board is in the office's language unless the address asks for
// another, whatever the TV's browser prefers; in each language every word
// is a translation, not a catalog key.
func TestHallPageLanguage(t *testing.T) {
	e := newEnv(t)
	hallOpenWithCall(t, e)
	rawKey := regexp.MustCompile(`\b(web|hall|refusal|when|wait|weekday)\.[a-z_.-]+`)
	cases := []struct{ query, lang string }{{"", "pl"}, {"?lang=xx", "pl"}}
	for _, l := range i18n.Languages {
		cases = append(cases, struct{ query, lang string }{"?lang=" + l, l})
	}
	for _, tc := range cases {
		want := e.web.Catalog.T(tc.lang, "hall.now_calling")
		req, _ := http.NewRequest("GET", e.url+"/o/"+e.office.ID+"/hall"+tc.query, nil)
		req.Header.Set("Accept-Language", "en-GB")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(data)
		if resp.StatusCode != 200 || !strings.Contains(page, want) || !strings.Contains(page, `<html lang="`+tc.lang+`"`) {
			t.Errorf("%q: %d, want %q on a page in %s", tc.query, resp.StatusCode, want, tc.lang)
		}
		_, ev := firstHallEvent(t, e, tc.query, "")
		if !strings.Contains(ev.HTML, want) {
			t.Errorf("%q: the stream's board lacks %q", tc.query, want)
		}
		for _, text := range []string{stripAttrs(page), stripAttrs(ev.HTML)} {
			if m := rawKey.FindString(text); m != "" {
				t.Errorf("%q shows the raw key %q", tc.query, m)
			}
		}
	}
}

// The clips are the pack's own samples as WAV; anything else is a 404.
func TestHallClips(t *testing.T) {
	e := newEnv(t)
	voices, err := voicepacks.Load(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	pl, _ := voices.Pack("pl")
	stanowisko, _ := pl.Clip("stanowisko")
	uk, _ := voices.Pack("uk")
	vikno, _ := uk.Clip("вікно")
	base := e.url + "/o/" + e.office.ID + "/hall"
	for _, tc := range []struct {
		path   string
		status int
		want   []int16
	}{
		{"/voice/pl/stanowisko", 200, stanowisko},
		{"/voice/uk/" + url.PathEscape("вікно"), 200, vikno},
		{"/chime", 200, voices.Chime().Samples},
		{"/voice/pl/nonsense", 404, nil},
		{"/voice/de/A", 404, nil},
		{"/voice/pl/..%2F..%2Fetc", 404, nil},
	} {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.path, resp.StatusCode, tc.status)
			continue
		}
		if tc.status != 200 {
			continue
		}
		w, err := audio.ReadWAV(data)
		if err != nil || w.Rate != audio.DefaultRate || len(w.Samples) != len(tc.want) {
			t.Errorf("%s: %v, rate %d, %d samples, want %d", tc.path, err, w.Rate, len(w.Samples), len(tc.want))
		}
	}
	resp, err := http.Get(e.url + "/o/nowhere/hall/chime")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("an unknown office's chime: %d", resp.StatusCode)
	}
}
