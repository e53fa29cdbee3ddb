package replica

import (
	"log/slog"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/numerek/numerek"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/queue"
)

// FuzzFollowerHandle feeds the follower messages as a broken or hostile
// server might send them: it must refuse what does not fit, never panic,
// never let an event take the state's seq backwards, and leave a state
// that can still be shown.
func FuzzFollowerHandle(f *testing.F) {
	data, err := numerek.ExampleOffices.ReadFile(numerek.DefaultOfficeFile)
	if err != nil {
		f.Fatal(err)
	}
	cfg, err := officeconfig.Parse("example", data)
	if err != nil {
		f.Fatal(err)
	}
	o := cfg.Offices[0]
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, o.Location)
	f.Add("snapshot", []byte(`{"seq":3,"state":{"seq":3,"day":"2026-11-23"}}`), "TicketIssued",
		[]byte(`{"seq":4,"at":"2026-11-23T09:00:00+01:00","type":"TicketIssued","data":{"ticket":{"id":"2026-11-23-A001","day":"2026-11-23","number":"A001","service":"family","channel":"kiosk","lang":"pl","state":"waiting"}}}`))
	f.Add("snapshot", []byte(`{"seq":1,"state":{}}`), "CounterOpened", []byte(`{"seq":2,"type":"CounterOpened","data":{"counter":1}}`))
	f.Add("", []byte(`{}`), "TicketCalled", []byte(`{"seq":9,"type":"TicketCalled","data":{"ticket":"x","counter":99}}`))
	f.Fuzz(func(t *testing.T, firstEvent string, first []byte, secondEvent string, second []byte) {
		fl := &Follower{log: slog.New(slog.DiscardHandler), office: o}
		w := fl.Watch()
		for _, m := range []sse.Message{{ID: "1", Event: firstEvent, Data: first}, {ID: "2", Event: secondEvent, Data: second}} {
			var before uint64
			if fl.state != nil {
				before = fl.state.Seq
			}
			err := fl.handle(m)
			if err == nil && m.Event != protocol.SnapshotEvent && fl.state != nil && fl.state.Seq < before {
				t.Fatalf("an event took the state from seq %d back to %d", before, fl.state.Seq)
			}
		}
		if fl.state != nil && !fl.resync {
			fl.state.View(now)
		}
		w.Read(func(s *queue.State, ch Change) {
			if ch.To != s.Seq || !ch.Reset {
				t.Fatalf("a watcher's first look: %+v, the state at %d", ch, s.Seq)
			}
		})
	})
}
