package kiosk

import (
	"context"
	"sort"
	"time"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// The hall assistant (seed 002) checks a resident's documents, issues a
// ticket for the right service on the resident's behalf and can send it to
// a kiosk to print: the ticket's channel is "assistant" and its device is
// the name the server knows the kiosk by. The kiosk follows the office's
// events anyway; it prints such tickets as they come, once each: each is
// journalled before it is printed, and the journal is how a restarted
// kiosk knows what it printed already.

// assistantWindow is how old an assistant's ticket may be and still be
// printed: after a long break the kiosk does not print a pile of tickets
// whose residents have gone on without them (the assistant's page shows
// the ticket's QR code too).
const assistantWindow = 10 * time.Minute

// loadAssisted remembers the assistant's tickets the journal has.
func (k *Kiosk) loadAssisted() {
	entries, err := k.db.Journal(0, 0)
	if err != nil {
		k.log.Error("reading the journal for the assistant's tickets", "err", err)
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, e := range entries {
		if e.Source == store.SourceAssistant && e.TicketID != "" {
			k.assisted[e.TicketID] = true
		}
	}
}

// deviceName is the name the server knows this kiosk by, asked once.
func (k *Kiosk) deviceName(ctx context.Context) string {
	k.mu.Lock()
	name := k.name
	k.mu.Unlock()
	if name != "" {
		return name
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	who, err := k.client.WhoAmI(ctx)
	if err != nil {
		return ""
	}
	k.mu.Lock()
	k.name = who.Device
	k.mu.Unlock()
	k.log.Info("the server knows this kiosk as", "device", who.Device)
	return who.Device
}

// printForAssistant prints the assistant's tickets sent to this kiosk that
// it has not printed yet.
func (k *Kiosk) printForAssistant(ctx context.Context) {
	if !k.follower.Online() {
		return
	}
	name := k.deviceName(ctx)
	o := k.follower.Office()
	if name == "" || o == nil {
		return
	}
	now := k.clock.Now()
	var due []queue.Ticket
	k.follower.Read(func(s *queue.State) {
		k.mu.Lock()
		defer k.mu.Unlock()
		for _, t := range s.Tickets {
			if t.Channel == queue.ChannelAssistant && t.Device == name && t.State == queue.Waiting &&
				now.Sub(t.IssuedAt) < assistantWindow && !k.assisted[t.ID] {
				due = append(due, *t)
			}
		}
	})
	sort.Slice(due, func(i, j int) bool { return due[i].IssuedAt.Before(due[j].IssuedAt) })
	for _, t := range due {
		k.printAssisted(ctx, o, t)
	}
}

func (k *Kiosk) printAssisted(ctx context.Context, o *queue.Office, t queue.Ticket) {
	k.issueMu.Lock()
	defer k.issueMu.Unlock()
	e, err := k.db.RecordIssued(store.JournalEntry{
		Source: store.SourceAssistant, Service: t.Service, Lang: t.Lang, Priority: t.Priority,
		Number: t.Number, TicketID: t.ID, IssuedAt: t.IssuedAt,
	})
	if err != nil {
		k.log.Error("journalling a ticket the assistant sent", "ticket", t.Number, "err", err)
		return
	}
	k.mu.Lock()
	k.assisted[t.ID] = true
	k.mu.Unlock()
	// The kiosk's own fold of the office says how many are ahead and how
	// long the wait is, as the server would; the e-ticket address for the
	// QR code only the server can sign.
	res := Result{EstimatedWait: -1}
	k.follower.Read(func(s *queue.State) {
		if tv, ok := s.TicketView(t.ID, k.clock.Now()); ok {
			res.Ahead, res.EstimatedWait = tv.Ahead, seconds(tv.EstimatedWaitS)
		}
	})
	rctx, cancel := context.WithTimeout(ctx, k.opts.IssueTimeout)
	resp, err := k.client.Ticket(rctx, t.ID)
	cancel()
	if err == nil {
		if e, err = k.db.UpdateEntry(e.Key, func(e *store.JournalEntry) error {
			e.ETicketURL = resp.ETicketURL
			return nil
		}); err != nil {
			k.log.Error("journalling a ticket's e-ticket address", "ticket", t.Number, "err", err)
		}
	}
	k.log.Info("printing a ticket the assistant sent", "ticket", t.Number, "lang", t.Lang)
	if _, err := k.deliver(ctx, o, e, res); err != nil {
		k.log.Error("printing a ticket the assistant sent", "ticket", t.Number, "err", err)
	}
}
