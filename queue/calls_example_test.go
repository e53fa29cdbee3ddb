package queue_test

import (
	"fmt"
	"time"

	"github.com/numerek/numerek/queue"
)

// A hall display remembers the seq of the last call it has said and asks
// for the calls after it: after each event it folds in, it says exactly
// the new ones, each once.
func ExampleState_CallsSince() {
	o := exampleOffice()
	if err := o.Validate(); err != nil {
		panic(err)
	}
	s := queue.NewState(o)
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, o.Location)
	for _, cmd := range []queue.Command{
		queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus},
		queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelKiosk},
		queue.Issue{Service: "family", Lang: "uk", Channel: queue.ChannelKiosk},
		queue.CallNext{Counter: 1},
	} {
		if _, _, err := s.Execute(now, "example", cmd); err != nil {
			panic(err)
		}
	}

	var said uint64 // the hall has said nothing yet
	say := func() {
		for _, c := range s.CallsSince(said) {
			fmt.Printf("%s to counter %d\n", c.Number, c.Counter)
			said = c.Seq
		}
	}
	say()
	for _, cmd := range []queue.Command{queue.Finish{Counter: 1}, queue.CallNext{Counter: 1}} {
		if _, _, err := s.Execute(now.Add(5*time.Minute), "counter:1", cmd); err != nil {
			panic(err)
		}
	}
	say()
	say() // nothing new
	// Output:
	// A001 to counter 1
	// A002 to counter 1
}

// A device told which events it folded in redraws only the parts they
// change: a counter's display skips a rating, a hall a device's fault.
func ExamplePartsOf() {
	for _, b := range []queue.Body{
		queue.TicketCalled{Ticket: "2026-11-23-A001", Counter: 1},
		queue.RatingGiven{Ticket: "2026-11-23-A001", Rating: queue.RatingGood},
		queue.DeviceFault{Device: "kiosk-1", Fault: "paper_out"},
	} {
		p := queue.PartsOf(b)
		fmt.Printf("%s: lines %v, counters %v, calls %v, faults %v\n", b.Kind(),
			p&queue.PartLines != 0, p&queue.PartCounters != 0, p&queue.PartCalls != 0, p&queue.PartFaults != 0)
	}
	// Output:
	// TicketCalled: lines true, counters true, calls true, faults false
	// RatingGiven: lines false, counters false, calls false, faults false
	// DeviceFault: lines false, counters false, calls false, faults true
}
