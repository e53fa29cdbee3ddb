// Package queue is the domain of Numerek, free of I/O: an office's
// configuration (services, counters, opening hours), its tickets and
// bookings, and the events that change them.
//
// Every change is an event. State is the fold of an office's events with
// Apply, and the same fold runs on the server and on every device, so a hall
// display and the server cannot disagree about who was called. Commands
// (Issue, CallNext, Recall, ...) validate against the current state and
// return the events to append, or an error saying what is wrong. Time always
// comes in from the caller: nothing here reads the clock.
package queue
