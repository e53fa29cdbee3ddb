package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/numerek/numerek/audio"
	"github.com/numerek/numerek/audio/voicepacks"
	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/localize"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
)

// The hall page is kioskd's hall screen (display/hall.go) as a web page,
// for an office with a smart TV or a PC by the wall: the newest call large
// and blinking, the calls before it, the waits per service, each new call
// said with the voice packs' clips. It is public, as the office page is:
// it shows what anyone standing in the lobby sees (ticket numbers,
// counters, waits) and nothing of any resident, so a TV needs no secret in
// its address (a token typed with a remote control, or leaked from a TV's
// history, would protect nothing the lobby does not show anyway).

// hallSayWithin is how old a call may be when the page learns of it (after
// a reconnect) and still be said: kioskd's default announce_within.
const hallSayWithin = 2 * time.Minute

// hallBlink is how long the newest call blinks: under WCAG 2.2.2's five
// seconds (kioskd's hall blinks six by default).
const hallBlink = 5 * time.Second

// mountHall adds the hall page's routes (the hallweb part of issue 14).
func (w *Web) mountHall(h func(string, http.HandlerFunc)) {
	h("GET /o/{office}/hall", w.hallPage)
	h("GET /o/{office}/hall/events", w.Server.Stream(w.hallEvents))
	h("GET /o/{office}/hall/voice/{lang}/{word}", w.hallClip)
	h("GET /o/{office}/hall/chime", w.hallChime)
}

// hallData is the hall page: its board and how it plays calls.
type hallData struct {
	Board     hallBoard
	ChimeGap  int64
	CallGap   int64
	BlinkMS   int64
	EventsURL string
	ChimeURL  string
}

// hallBoard is what the hall shows at a moment, rendered on the server in
// the hall's language so the page's script only swaps it in.
type hallBoard struct {
	P      *page
	View   queue.View
	Newest *queue.RecentCall
	// Recent are the calls before the newest, one per ticket.
	Recent []queue.RecentCall
	Word   string
	Now    time.Time
}

// CounterLabel is "Stanowisko 5", as the hall writes a counter.
func (b hallBoard) CounterLabel(n int) string {
	return strings.TrimSpace(localize.Capitalize(b.Word) + " " + strconv.Itoa(n))
}

// Weekday is today's weekday, capitalised as the hall's header has it.
func (b hallBoard) Weekday() string { return localize.Capitalize(b.P.Weekday(b.Now)) }

// DateText is the date as the hall's header writes it.
func (b hallBoard) DateText() string { return b.Now.In(b.P.loc()).Format("02.01.2006") }

// ServiceState is a service chip's second line.
func (b hallBoard) ServiceState(s queue.ServiceView) string {
	p := b.P
	switch {
	case !s.Open:
		return p.T("hall.service_closed")
	case s.Waiting == 0:
		return p.T("hall.waiting_none")
	}
	return p.N("hall.waiting", s.Waiting) + " · " + localize.Wait(p.w.Catalog, p.Lang, time.Duration(s.EstimatedWaitS)*time.Second)
}

// Idle is what the big box says when no one has been called.
func (b hallBoard) Idle() string {
	if !b.View.Open {
		return b.P.T("hall.office_closed", "when", localize.When(b.P.w.Catalog, b.P.Lang, b.View.NextOpening, b.P.loc(), b.Now))
	}
	return b.P.T("hall.no_calls")
}

// hallEvent is one update of the hall's stream: the board, and the calls
// to say with the clips of each, in order.
type hallEvent struct {
	HTML string `json:"html"`
	// Blink: the newest call is news, and blinks.
	Blink bool       `json:"blink,omitempty"`
	Say   []hallCall `json:"say,omitempty"`
}

// hallCall is one call said: its clips and the pause before each, in one
// or two languages (audio.Voices.InBothLanguages).
type hallCall struct {
	Number  string     `json:"number"`
	Counter int        `json:"counter"`
	Clips   []hallClip `json:"clips"`
}

type hallClip struct {
	URL     string `json:"url"`
	PauseMS int64  `json:"pause_ms"`
}

// hallLanguage is ?lang=, else the office's own language: a TV's browser
// often says English where the office speaks Polish.
func hallLanguage(r *http.Request, o *queue.Office) string {
	if l := r.URL.Query().Get("lang"); i18n.Supported(l) {
		return l
	}
	return o.DefaultLanguage()
}

// hallPageFor starts the hall's page (or its stream's fragments) for a.
func (w *Web) hallPageFor(rw http.ResponseWriter, r *http.Request, a *actor.Actor) *page {
	p := w.newPage(rw, r, "")
	p.Lang = hallLanguage(r, a.Office())
	p.Office = a.Office()
	p.Title = a.Office().Name
	return p
}

func (w *Web) hallPage(rw http.ResponseWriter, r *http.Request) {
	a := w.officeOf(rw, r)
	if a == nil {
		return
	}
	p := w.hallPageFor(rw, r, a)
	v, err := a.View(r.Context())
	if err != nil {
		w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
		return
	}
	base := "/o/" + url.PathEscape(a.Office().ID) + "/hall"
	p.Scripts = []string{"hall.js"}
	p.Data = hallData{
		Board:    w.hallBoard(p, a.Office(), v),
		ChimeGap: audio.ChimeGap.Milliseconds(), CallGap: audio.CallGap.Milliseconds(), BlinkMS: hallBlink.Milliseconds(),
		EventsURL: base + "/events?lang=" + p.Lang, ChimeURL: base + "/chime",
	}
	w.render(rw, 0, "hall", p)
}

// hallBoard picks from v what the hall shows.
func (w *Web) hallBoard(p *page, o *queue.Office, v queue.View) hallBoard {
	b := hallBoard{P: p, View: v, Word: o.Rules.CounterWord, Now: w.Clock()}
	if b.Word == "" {
		b.Word = p.T("hall.counter_word")
	}
	seen := map[string]bool{}
	for i, c := range v.Calls {
		if seen[c.Ticket] {
			continue
		}
		seen[c.Ticket] = true
		if i == 0 {
			b.Newest = &v.Calls[0]
			continue
		}
		b.Recent = append(b.Recent, c)
	}
	return b
}

// hallEvents streams the hall's board: at once, after every change, at
// each minute and at least every TicketRefresh (the clock and the waits
// move), with the seq as the
// event's id. A page that reconnects sends the last id it had
// (Last-Event-ID) and is told the calls it missed, to say the recent ones;
// a new page's first board is history and says nothing.
func (w *Web) hallEvents(rw http.ResponseWriter, r *http.Request) {
	a := w.officeOf(rw, r)
	if a == nil {
		return
	}
	o := a.Office()
	p := w.hallPageFor(rw, r, a)
	cursor, resumed := uint64(0), false
	if id, err := strconv.ParseUint(r.Header.Get("Last-Event-ID"), 10, 64); err == nil {
		cursor, resumed = id, true
	}
	sw, tail, done, ok := w.openStream(rw, a)
	if !ok {
		return
	}
	defer done()
	send := func() bool {
		// The view is the actor's, shared by every screen while nothing
		// changes; only the calls a resumed page missed are its own.
		v, err := a.View(r.Context())
		if err != nil {
			return false
		}
		now := w.Clock()
		var fresh []queue.RecentCall
		if resumed && cursor < v.Seq {
			err = a.Query(r.Context(), func(s *queue.State) {
				for _, c := range s.CallsSince(cursor) {
					if c.Seq <= v.Seq {
						fresh = append(fresh, c)
					}
				}
			})
			if err != nil {
				return false
			}
		}
		// Everything up to here is told; a log that went back (the
		// server restored) starts over from where it now is.
		cursor, resumed = v.Seq, true
		ev := hallEvent{}
		board := w.hallBoard(p, o, v)
		if board.Newest != nil && len(fresh) > 0 && fresh[len(fresh)-1].Seq == board.Newest.Seq {
			ev.Blink = true
		}
		for _, c := range fresh {
			if now.Sub(c.At) <= hallSayWithin {
				ev.Say = append(ev.Say, w.hallSay(o, c)...)
			}
		}
		var html bytes.Buffer
		if err := w.pages["hall"].ExecuteTemplate(&html, "board", board); err != nil {
			w.Logger.Error("rendering the hall", "err", err)
			return false
		}
		ev.HTML = html.String()
		data, _ := json.Marshal(ev)
		sw.Event(strconv.FormatUint(v.Seq, 10), "board", data)
		return sw.Flush() == nil
	}
	if !send() {
		return
	}
	tick := time.NewTimer(w.hallRefresh())
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			tick.Reset(w.hallRefresh())
		case <-tail.Ready():
			if _, open := tail.Skip(); !open {
				return
			}
		}
		if !send() {
			return
		}
	}
}

// hallRefresh is how long until the board is sent again with nothing
// happening: at the next minute, so its clock turns with the minute as
// kioskd's does, and at least every TicketRefresh, as waits move.
func (w *Web) hallRefresh() time.Duration {
	now := w.Clock()
	return min(w.TicketRefresh, now.Truncate(time.Minute).Add(time.Minute).Sub(now)+50*time.Millisecond)
}

// hallSay is what the page says for call c: as kioskd's hall says it, the
// words decided by audio's Sequence.
func (w *Web) hallSay(o *queue.Office, c queue.RecentCall) []hallCall {
	voices, err := w.voices()
	if err != nil {
		w.Logger.Error("no voices: the hall page shows calls but does not say them", "err", err)
		return nil
	}
	first := audio.Call{Lang: o.DefaultLanguage(), Ticket: c.Number, Counter: c.Counter, CounterWord: o.Rules.CounterWord, Recall: c.Recall}
	var out []hallCall
	for _, call := range voices.InBothLanguages(first, c.Lang, o.Rules.AnnounceTicketLanguage) {
		seq, err := voices.Sequence(call)
		if err != nil {
			w.Logger.Warn("call not said on the hall page", "ticket", c.Number, "err", err)
			continue
		}
		hc := hallCall{Number: c.Number, Counter: c.Counter}
		for _, st := range seq.Steps {
			hc.Clips = append(hc.Clips, hallClip{
				URL:     "/o/" + url.PathEscape(o.ID) + "/hall/voice/" + call.Lang + "/" + url.PathEscape(st.Word),
				PauseMS: st.Pause.Milliseconds(),
			})
		}
		out = append(out, hc)
	}
	return out
}

// hallClip serves one word of a voice pack as WAV, at the packs' rate.
// Clips change only with the server's packs, so browsers keep them.
func (w *Web) hallClip(rw http.ResponseWriter, r *http.Request) {
	if w.officeOf(rw, r) == nil {
		return
	}
	voices, err := w.voices()
	if err != nil {
		w.Logger.Error("no voices for the hall page", "err", err)
		w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
		return
	}
	pack, ok := voices.Pack(r.PathValue("lang"))
	if !ok {
		w.problem(rw, r, http.StatusNotFound, "web.error.no_page")
		return
	}
	clip, ok := pack.Clip(r.PathValue("word"))
	if !ok {
		w.problem(rw, r, http.StatusNotFound, "web.error.no_page")
		return
	}
	w.serveWAV(rw, audio.PCM{Rate: pack.Rate, Samples: clip})
}

// hallChime serves the chime that opens a run of calls.
func (w *Web) hallChime(rw http.ResponseWriter, r *http.Request) {
	if w.officeOf(rw, r) == nil {
		return
	}
	voices, err := w.voices()
	if err != nil {
		w.Logger.Error("no voices for the hall page", "err", err)
		w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
		return
	}
	w.serveWAV(rw, voices.Chime())
}

func (w *Web) serveWAV(rw http.ResponseWriter, p audio.PCM) {
	var buf bytes.Buffer
	if err := audio.WriteWAV(&buf, p); err != nil {
		w.Logger.Error("encoding a clip", "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "audio/wav")
	rw.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = rw.Write(buf.Bytes())
}

// loadVoices is the voices of Config, else the built-in packs.
func loadVoices(cfg Config) func() (*audio.Voices, error) {
	if cfg.Voices != nil {
		return func() (*audio.Voices, error) { return cfg.Voices, nil }
	}
	return func() (*audio.Voices, error) { return voicepacks.Load(audio.DefaultRate, cfg.Logger) }
}
