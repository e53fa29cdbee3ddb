package queue_test

import (
	"fmt"
	"time"

	"github.com/numerek/numerek/queue"
)

// exampleOffice is a one-service office open on weekdays 8-16.
func exampleOffice() *queue.Office {
	warsaw, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		panic(err)
	}
	day, err := queue.ParseInterval("08:00-16:00")
	if err != nil {
		panic(err)
	}
	o := &queue.Office{
		ID: "example", Name: "Urząd", Location: warsaw, Languages: []string{"pl"},
		Services: []queue.Service{{ID: "family", Prefix: "A", Names: map[string]string{"pl": "Świadczenia rodzinne"}, Priority: 1, ServiceTime: 6 * time.Minute}},
		Counters: []queue.Counter{{Number: 1, Name: "Stanowisko 1", Weights: map[string]float64{"family": 1}}},
	}
	for d := time.Monday; d <= time.Friday; d++ {
		o.Hours[d] = []queue.Interval{day}
	}
	return o
}

// A kiosk issues a ticket and counter 1 calls it: Execute validates each
// command against the state and applies the events it decides.
func ExampleState_Execute() {
	o := exampleOffice()
	if err := o.Validate(); err != nil {
		panic(err)
	}
	s := queue.NewState(o)
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, o.Location)

	if _, _, err := s.Execute(now, "clerk:anna", queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus}); err != nil {
		panic(err)
	}
	_, d, err := s.Execute(now, "kiosk:lobby", queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelKiosk, RequestID: "r1"})
	if err != nil {
		panic(err)
	}
	fmt.Println("issued", s.Tickets[d.Ticket].Number)

	_, d, err = s.Execute(now.Add(time.Minute), "counter:1", queue.CallNext{Counter: 1})
	if err != nil {
		panic(err)
	}
	t := s.Tickets[d.Ticket]
	fmt.Println("called", t.Number, "to counter", t.Counter)
	// Output:
	// issued A001
	// called A001 to counter 1
}

// A device keeps its own copy of the office by applying the server's
// events in order (the first one rolls the office into the day), and
// reads the same View the server does.
func ExampleState_Apply() {
	o := exampleOffice()
	if err := o.Validate(); err != nil {
		panic(err)
	}
	server := queue.NewState(o)
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, o.Location)
	var log []queue.Event
	for _, cmd := range []queue.Command{
		queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus},
		queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelKiosk, RequestID: "r1"},
		queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelKiosk, RequestID: "r2"},
	} {
		events, _, err := server.Execute(now, "example", cmd)
		if err != nil {
			panic(err)
		}
		log = append(log, events...)
	}

	replica := queue.NewState(o)
	for _, e := range log {
		if err := replica.Apply(e); err != nil {
			panic(err)
		}
	}
	v := replica.View(now)
	fmt.Println("seq", v.Seq, "open", v.Open)
	for _, sv := range v.Services {
		fmt.Printf("%s %s: %d waiting, about %d min\n", sv.Prefix, sv.Names["pl"], sv.Waiting, sv.EstimatedWaitS/60)
	}
	// Output:
	// seq 4 open true
	// A Świadczenia rodzinne: 2 waiting, about 12 min
}
