package device

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/servertest"
)

// The counter's buttons (periph's test pins, wired to ground) do the
// counter's work on a real server: next calls, recall recalls, finish
// ends, and a rating button rates the ticket just finished.
func TestCounterButtonsActAtTheCounter(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	client, err := protocol.NewClient(srv.URL, srv.Office.ID, srv.Tokens["counter3"], protocol.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := &dev{
		cfg:    &config.Config{Counter: config.Counter{Number: 3}, Buttons: config.Buttons{ActiveLow: true, Debounce: 10 * time.Millisecond}},
		client: client, log: slog.New(slog.DiscardHandler),
	}
	pins := map[config.Button]*gpiotest.Pin{}
	io := map[config.Button]gpio.PinIO{}
	for _, b := range config.AllButtons {
		p := &gpiotest.Pin{N: string(b), EdgesChan: make(chan gpio.Level, 8)}
		pins[b], io[b] = p, p
	}
	ctx, cancel := context.WithCancel(context.Background())
	var presses atomic.Int64
	done := make(chan error, 1)
	go func() { done <- d.watchButtons(ctx, io, &presses) }()
	defer func() { cancel(); <-done }()

	srv.MustCall(srv.Tokens["counter3"], "POST", "/counters/3/open", "", 200)
	for i := range 2 {
		srv.MustCall(srv.Tokens["ticket"], "POST", "/tickets", `{"service":"family","lang":"pl","request_id":"b`+string(rune('0'+i))+`"}`, 201)
	}
	ticket := func(id string) queue.Ticket { return srv.Tickets()["2026-11-23-"+id] }
	// press holds a button down until the device counts the press, lets it
	// go, and waits until the server shows what the press did. A press the
	// device did not count (its release of the last press still settling
	// on a loaded machine) is pressed again; a counted one never is.
	press := func(b config.Button, what string, done func() bool) {
		t.Helper()
		before := presses.Load()
		for try := 1; ; try++ {
			pins[b].EdgesChan <- gpio.Low
			counted := waitfor.Within(time.Second, func() bool { return presses.Load() > before })
			pins[b].EdgesChan <- gpio.High
			if counted {
				break
			}
			if try == 5 {
				t.Fatalf("the %s button was pressed %d times and no press was counted", b, try)
			}
		}
		waitfor.Until(t, what, 5*time.Second, done)
	}

	press(config.ButtonNext, "A001 called at counter 3", func() bool {
		tk := ticket("A001")
		return tk.State == queue.Called && tk.Counter == 3
	})
	press(config.ButtonRecall, "A001 recalled", func() bool { return ticket("A001").Recalls == 1 })
	press(config.ButtonFinish, "A001 done", func() bool { return ticket("A001").State == queue.Done })
	press(config.ButtonNeutral, "A001 rated neutral", func() bool { return ticket("A001").Rating == queue.RatingNeutral })
	press(config.ButtonNext, "A002 called", func() bool { return ticket("A002").State == queue.Called })
	if n := presses.Load(); n != 5 {
		t.Errorf("%d presses counted, want 5", n)
	}
}
