package queue

import (
	"testing"
	"time"
)

func TestForecastFollowsCountersAndServiceMix(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.open(1, 2)
	var ids []string
	for range 4 {
		ids = append(ids, h.issue("family").ID)
	}
	f := h.s.Forecast(h.now)
	w := func(i int) time.Duration { return f[ids[i]].Sub(h.now) }
	// Two counters serve family: the first two are called at once, the next
	// two after one service each.
	if w(0) != 0 || w(1) != 0 {
		t.Errorf("first two wait %v, %v; want 0", w(0), w(1))
	}
	if w(2) < 5*time.Minute || w(2) > 9*time.Minute {
		t.Errorf("third waits %v, want about one 6-minute service", w(2))
	}
	if w(3) != w(2) {
		t.Errorf("fourth waits %v, want the same as third %v (two counters)", w(3), w(2))
	}
	// Counter 3 serves only documents: opening it does not shorten family.
	h.open(3)
	if got := h.s.Forecast(h.now)[ids[2]].Sub(h.now); got != w(2) {
		t.Errorf("a documents-only counter changed the family forecast: %v -> %v", w(2), got)
	}
}

func TestForecastUsesRemainingTimeOfCurrentResident(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.open(1)
	h.issue("family")
	next := h.issue("family")
	h.callNext(1)
	h.do(Start{Counter: 1})
	h.advance(5 * time.Minute)
	got := h.s.Forecast(h.now)[next.ID].Sub(h.now)
	if got > 2*time.Minute {
		t.Errorf("5 minutes into a 6-minute service the next waits %v, want about 1 minute", got)
	}
}

func TestForecastLearnsServiceTimes(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.open(1)
	for range 12 {
		h.issue("family")
		h.callNext(1)
		h.do(Start{Counter: 1})
		h.advance(20 * time.Minute)
		h.do(Finish{Counter: 1})
	}
	if w := h.s.WaitForNew(h.now, "family"); w != 0 {
		t.Errorf("empty line, open counter: wait %v", w)
	}
	h.issue("family")
	if w := h.s.WaitForNew(h.now, "family"); w < 15*time.Minute {
		t.Errorf("after services of 20 minutes a second ticket waits %v, want near 20 minutes", w)
	}
}

func TestForecastWhenCountersClosed(t *testing.T) {
	h := newHarness(t, testOffice(), at("07:30"))
	if w := h.s.WaitForNew(h.now, "family"); w < 29*time.Minute || w > 31*time.Minute {
		t.Errorf("before opening a ticket waits %v, want until 08:00", w)
	}
}

func TestView(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.open(1, 2)
	h.issue("family")
	h.issue("family")
	h.issue("family")
	h.issue("docs")
	h.callNext(1)
	v := h.s.View(h.now)
	if !v.Open || v.Seq != h.s.Seq || len(v.Waiting) != 3 {
		t.Fatalf("view open=%v seq=%d waiting=%d", v.Open, v.Seq, len(v.Waiting))
	}
	byNumber := map[string]TicketView{}
	for _, tv := range v.Waiting {
		byNumber[tv.Number] = tv
	}
	if byNumber["A002"].Ahead != 0 || byNumber["A003"].Ahead != 1 || byNumber["D001"].Ahead != 0 {
		t.Errorf("ahead: A002=%d A003=%d D001=%d", byNumber["A002"].Ahead, byNumber["A003"].Ahead, byNumber["D001"].Ahead)
	}
	if v.Counters[0].Current == nil || v.Counters[0].Current.Number != "A001" {
		t.Errorf("counter 1 current %+v", v.Counters[0].Current)
	}
	if v.Services[0].Waiting != 2 || !v.Services[0].Open || v.Services[0].EstimatedWaitS <= 0 {
		t.Errorf("family view %+v", v.Services[0])
	}
	if len(v.Calls) != 1 || v.Calls[0].Number != "A001" || v.Calls[0].Counter != 1 {
		t.Errorf("calls %+v", v.Calls)
	}
	h.now = at("15:50")
	v = h.s.View(h.now)
	if v.Services[0].Open || v.Services[0].Refusal == nil || v.Services[0].Refusal.Reason != ReasonCutOff {
		t.Errorf("family at 15:50 %+v", v.Services[0])
	}
}

func TestForecastExpectsTheLongTailOfAService(t *testing.T) {
	h := newHarness(t, testOffice(), at("08:00"))
	h.open(1)
	// Most family matters take 3 minutes, one in five takes 20.
	for i := range 10 {
		h.issue("family")
		h.callNext(1)
		h.do(Start{Counter: 1})
		if i%5 == 4 {
			h.advance(20 * time.Minute)
		} else {
			h.advance(3 * time.Minute)
		}
		h.do(Finish{Counter: 1})
	}
	h.issue("family")
	h.callNext(1)
	h.do(Start{Counter: 1})
	h.advance(10 * time.Minute)
	// Ten minutes in, this is one of the long ones: about ten more to go.
	next := h.issue("family")
	got := h.s.Forecast(h.now)[next.ID].Sub(h.now)
	if got < 5*time.Minute || got > 12*time.Minute {
		t.Errorf("ten minutes into a service that is 3 or 20 minutes long, the next waits %v, want 5-12 minutes", got)
	}
}

func TestForecastExpectsResidentsStillToCome(t *testing.T) {
	// Counter 2 prefers family four to one over documents, so family
	// residents who keep coming are called before a waiting documents
	// ticket until it has waited four times as long.
	office := func() *Office {
		o := testOffice()
		o.Counters = []Counter{{Number: 2, Name: "Stanowisko 2", Weights: map[string]float64{"family": 1, "docs": 0.25}}}
		return o
	}
	forecast := func(from time.Time) time.Duration {
		h := newHarness(t, office(), at("08:00"))
		h.open(2)
		h.now = from
		// Twelve family residents, one every 5 minutes, served in 3.
		for range 12 {
			h.issue("family")
			h.callNext(2)
			h.do(Start{Counter: 2})
			h.advance(3 * time.Minute)
			h.do(Finish{Counter: 2})
			h.advance(2 * time.Minute)
		}
		h.now = at("10:30")
		h.issue("family")
		h.callNext(2)
		h.do(Start{Counter: 2})
		docs := h.issue("docs")
		return h.s.Forecast(h.now)[docs.ID].Sub(h.now)
	}
	busy, quiet := forecast(at("09:30")), forecast(at("08:00"))
	if busy-quiet < 2*time.Minute {
		t.Errorf("documents ticket waits %v while family residents keep coming and %v when they stopped an hour ago: want the first longer by a family service or more", busy, quiet)
	}
}
