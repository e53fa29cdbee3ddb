package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
)

// Hours closed for booking (the booking desk's closures) reach devices as
// events and in snapshots, in the API's documented shape, and a device
// folds them to the server's state.
func TestClosuresReachDevices(t *testing.T) {
	e := newEnv(t, actor.Options{})
	a := e.actors[e.office.ID]
	from := time.Date(2026, 11, 24, 9, 0, 0, 0, e.office.Location)
	if res := a.Do(context.Background(), "clerk:kierownik", queue.CloseBooking{ID: "c1", From: from, To: from.Add(2 * time.Hour), Reason: "Szkolenie"}); res.Err != nil {
		t.Fatal(res.Err)
	}
	msgs, cancel := readStream(t, e, "", 1)
	cancel()
	snap := decode[protocol.Snapshot](t, msgs[0].Data)
	st := queue.NewState(e.office)
	if err := decodeInto(snap.State, st); err != nil {
		t.Fatal(err)
	}
	st.Restore(e.office)
	if c := st.Closures["c1"]; c == nil || c.Reason != "Szkolenie" {
		t.Fatalf("the snapshot's closures %+v", st.Closures)
	}
	if res := a.Do(context.Background(), "clerk:kierownik", queue.ReopenBooking{ID: "c1"}); res.Err != nil {
		t.Fatal(res.Err)
	}
	msgs, cancel = readStream(t, e, fmt.Sprint(st.Seq), 1)
	cancel()
	applyAll(t, st, msgs)
	if len(st.Closures) != 0 || st.Seq != e.seq() {
		t.Errorf("after the reopening event the device has %+v at seq %d (server %d)", st.Closures, st.Seq, e.seq())
	}
}
