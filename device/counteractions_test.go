package device

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/servertest"
)

// Every button a counter's box may have does its action of queue's table
// on a real server, and every action of the table is some button's, or the
// configuration says why no button can do it (its parameters are chosen
// on a screen at the time).
func TestEveryCounterButtonDoesItsAction(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	client, err := protocol.NewClient(srv.URL, srv.Office.ID, srv.Tokens["counter3"], protocol.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := &dev{cfg: &config.Config{Counter: config.Counter{Number: 3}}, client: client, log: slog.New(slog.DiscardHandler)}
	for i := range 5 {
		srv.MustCall(srv.Tokens["ticket"], "POST", "/tickets", `{"service":"family","lang":"pl","request_id":"e`+string(rune('0'+i))+`"}`, 201)
	}
	ticket := func(number string) queue.Ticket { return srv.Tickets()["2026-11-23-"+number] }
	status := func() queue.CounterStatus {
		for _, c := range srv.View().Counters {
			if c.Number == 3 {
				return c.Status
			}
		}
		return ""
	}
	steps := []struct {
		button config.Button
		check  func() bool
	}{
		{"open", func() bool { return status() == queue.CounterOpenStatus }},
		{"next", func() bool { return ticket("A001").State == queue.Called }},
		{"recall", func() bool { return ticket("A001").Recalls == 1 }},
		{"start", func() bool { return ticket("A001").State == queue.Serving }},
		{"finish", func() bool { return ticket("A001").State == queue.Done }},
		{"good", func() bool { return ticket("A001").Rating == queue.RatingGood }},
		{"next", func() bool { return ticket("A002").State == queue.Called }},
		{"finish", func() bool { return ticket("A002").State == queue.Done }},
		{"neutral", func() bool { return ticket("A002").Rating == queue.RatingNeutral }},
		{"next", func() bool { return ticket("A003").State == queue.Called }},
		{"finish", func() bool { return ticket("A003").State == queue.Done }},
		{"bad", func() bool { return ticket("A003").Rating == queue.RatingBad }},
		{"next", func() bool { return ticket("A004").State == queue.Called }},
		{"no-show", func() bool { return ticket("A004").State == queue.NoShow }},
		{"next", func() bool { return ticket("A005").State == queue.Called }},
		{"park", func() bool { return ticket("A005").State == queue.Parked }},
		{"pause", func() bool { return status() == queue.CounterPausedStatus }},
		{"open", func() bool { return status() == queue.CounterOpenStatus }},
		{"close", func() bool { return status() == queue.CounterClosedStatus }},
		{"undo", func() bool { return status() == queue.CounterOpenStatus }},
	}
	pressed := map[config.Button]bool{}
	for _, s := range steps {
		// pressed returns once the server has answered.
		d.pressed(context.Background(), s.button)
		if !s.check() {
			t.Fatalf("the %s button did not do its work", s.button)
		}
		pressed[s.button] = true
	}
	for _, b := range config.AllButtons {
		if !pressed[b] {
			t.Errorf("the %s button is not pressed here", b)
		}
	}
	// Every action is a button's, or a file naming it is told why not.
	for _, a := range queue.CounterActions() {
		if slices.ContainsFunc(queue.CounterButtons(), func(b queue.CounterButton) bool { return b.Action == a.Name }) {
			continue
		}
		text := "role = \"counter\"\n[server]\nurl = \"http://s\"\noffice = \"x\"\ntoken = \"t\"\n[counter]\nnumber = 3\n[buttons]\n" + a.Name + " = \"GPIO5\"\n"
		_, err := config.Parse("f.toml", []byte(text))
		if err == nil || !strings.Contains(err.Error(), "f.toml:9: buttons."+a.Name+": no button can "+a.Name+": it needs ") {
			t.Errorf("%s has no button, and the configuration says %v", a.Name, err)
		}
	}
}
