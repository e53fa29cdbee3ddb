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
	press := func(b config.Button) {
		t.Helper()
		before := presses.Load()
		time.Sleep(30 * time.Millisecond)
		pins[b].EdgesChan <- gpio.Low
		time.Sleep(40 * time.Millisecond)
		pins[b].EdgesChan <- gpio.High
		deadline := time.Now().Add(2 * time.Second)
		for presses.Load() == before && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // the action reaches the server
	}
	ticket := func(id string) queue.Ticket { return srv.Tickets()["2026-11-23-"+id] }

	press(config.ButtonNext)
	if tk := ticket("A001"); tk.State != queue.Called || tk.Counter != 3 {
		t.Fatalf("after next: A001 is %s at %d", tk.State, tk.Counter)
	}
	press(config.ButtonRecall)
	if tk := ticket("A001"); tk.Recalls != 1 {
		t.Errorf("after recall: %d recalls", tk.Recalls)
	}
	press(config.ButtonFinish)
	if tk := ticket("A001"); tk.State != queue.Done {
		t.Errorf("after finish: A001 is %s", tk.State)
	}
	press(config.ButtonNeutral)
	if tk := ticket("A001"); tk.Rating != queue.RatingNeutral {
		t.Errorf("after the neutral button: rating %q", tk.Rating)
	}
	press(config.ButtonNext)
	if tk := ticket("A002"); tk.State != queue.Called {
		t.Errorf("after next: A002 is %s", tk.State)
	}
	if n := presses.Load(); n != 5 {
		t.Errorf("%d presses counted, want 5", n)
	}
}
