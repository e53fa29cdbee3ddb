package device

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/numerek/numerek/device/buttons"
	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/display"
	"github.com/numerek/numerek/queue"
)

// buildCounter makes the counter's number display and, when the counter
// has buttons, turns their presses into the counter's actions.
func (d *dev) buildCounter(ctx context.Context) (display.Screen, error) {
	o := d.office(ctx, 5*time.Second)
	counterWord := ""
	if o != nil {
		counterWord = o.Rules.CounterWord
	}
	n := d.cfg.Counter.Number
	screen := display.NewCounter(display.CounterConfig{
		Panel: d.panel(), Number: n, Lang: d.cfg.Languages[0], CounterWord: counterWord,
		Location: location(o), Now: d.clock.Now,
	})
	cs, w := &counterScreen{d: d, screen: screen, n: n}, d.follower.Watch()
	d.spawn("counter screen", func(ctx context.Context) error { return d.feed(ctx, w, 0, cs.react) })
	var presses atomic.Int64
	d.status = func() any { return map[string]any{"counter": n, "button_presses": presses.Load()} }
	if len(d.cfg.Buttons.Pins) == 0 {
		return screen, nil
	}
	pins, err := buttons.Open(d.cfg.Buttons.Pins)
	switch {
	case errors.Is(err, buttons.ErrNoGPIO):
		d.log.Warn("this machine has no GPIO pins; running without the counter's buttons")
		return screen, nil
	case err != nil:
		d.log.Error("some of the counter's buttons cannot be used", "err", err)
	}
	if len(pins) == 0 {
		return screen, nil
	}
	d.spawn("counter buttons", func(ctx context.Context) error {
		return d.watchButtons(ctx, pins, &presses)
	})
	return screen, nil
}

// watchButtons does the counter's action for each press. Presses are not
// queued while the server is away: a clerk presses again, and a stale
// "next" must not call someone minutes later.
func (d *dev) watchButtons(ctx context.Context, pins map[config.Button]gpio.PinIO, presses *atomic.Int64) error {
	d.log.Info("counter buttons ready", "buttons", len(pins))
	return buttons.Watch(ctx, pins, buttons.Options{ActiveLow: d.cfg.Buttons.ActiveLow, Debounce: d.cfg.Buttons.Debounce}, func(b config.Button) {
		presses.Add(1)
		d.pressed(ctx, b)
	})
}

// pressed does what button b does at the counter: the action queue's
// table gives the button, with the button's parameters.
func (d *dev) pressed(ctx context.Context, b config.Button) {
	btn, ok := queue.CounterButtonNamed(string(b))
	if !ok {
		d.log.Warn("button press not done", "button", b, "err", "no such button")
		return
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	t, err := d.client.CounterAction(rctx, d.cfg.Counter.Number, btn.Action, btn.Params)
	switch {
	case err != nil:
		d.log.Warn("button press not done", "button", b, "err", err)
	case t == nil:
		// An action that sets the counter's status answers with the
		// counter; "next" with no ticket when nobody waits.
		result := "nobody waits"
		if a, err := queue.CounterActionNamed(btn.Action); err == nil && a.Status != "" {
			result = "counter " + string(a.Status)
		}
		d.log.Info("button", "button", b, "result", result)
	default:
		d.log.Info("button", "button", b, "ticket", t.Number)
	}
}
