package lockers

import (
	"context"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
)

// watch follows one office's events until ctx ends.
func (s *Service) watch(ctx context.Context, a *actor.Actor) {
	a.Hub().Follow(ctx, func(events []queue.Event) {
		for _, e := range events {
			s.react(ctx, a, e)
		}
	}, func() {
		// Dropped for falling behind: the sweep finds what a missed
		// event left to do (a ready notice, an expiry).
		s.cfg.Logger.Warn("the lockers' watcher fell behind an office's events", "office", a.Office().ID)
		s.poke()
	})
}

// react acts on one event: a document stored or a new pickup code wakes
// the timer (which sends the ready notice); an ended deposit's one-time
// code is forgotten. (Expiries alert the staff from the sweep that made
// them.)
func (s *Service) react(ctx context.Context, a *actor.Actor, e queue.Event) {
	switch b := e.Body.(type) {
	case queue.DepositStored:
		s.poke()
	case queue.LockerCodeReplaced:
		if b.Which == "pickup" {
			s.poke()
		}
	case queue.DepositPickedUp, queue.DepositRetrieved, queue.DepositCancelled:
		s.forgetFactor(a.Office().ID, depositOf(b))
	}
}

// depositOf is the deposit an ending event is about.
func depositOf(body any) string {
	switch b := body.(type) {
	case queue.DepositPickedUp:
		return b.Deposit
	case queue.DepositRetrieved:
		return b.Deposit
	case queue.DepositCancelled:
		return b.Deposit
	}
	return ""
}
