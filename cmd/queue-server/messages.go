package main

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/server/outbox"
)

// outboxFile is the message outbox's bbolt file in the data directory.
const outboxFile = "outbox.db"

// openMessages opens the message outbox when [messages] is configured
// (nil, nil when it is not). The outbox is the server's notice.Sender:
// whatever has something to tell a resident (the booking desk, the
// e-ticket) hands it notices, and it delivers them.
func openMessages(dataDir, publicURL string, cfg *officeconfig.Config, clock func() time.Time, logger *slog.Logger) (*outbox.Outbox, error) {
	m := cfg.Messages
	if !m.Enabled() {
		return nil, nil
	}
	offices := map[string]*queue.Office{}
	for _, o := range cfg.Offices {
		offices[o.ID] = o
	}
	c := &outbox.Composer{Catalog: i18n.Messages(), Offices: offices, Places: m.Offices, PublicURL: publicURL, Clock: clock}
	opts := outbox.Options{
		Path: filepath.Join(dataDir, outboxFile), Clock: clock, Log: logger,
		GiveUpAfter: m.GiveUpAfter, KeepSent: m.KeepSent,
		Retention: func(office string) time.Duration {
			if o := offices[office]; o != nil {
				return o.Booking.Retention
			}
			return 0
		},
	}
	if m.Email != nil {
		opts.Email = outbox.NewMailer(*m.Email, c)
	}
	if m.SMS != nil {
		texter, err := outbox.NewTexter(*m.SMS, c, &http.Client{Timeout: 30 * time.Second})
		if err != nil {
			return nil, err
		}
		opts.SMS = texter
	}
	return outbox.Open(opts)
}

// reminders sends the day-before reminders through ob, checking each
// visit with its office so one the office dropped is not reminded.
func reminders(ob *outbox.Outbox, wp *webParts, signer *links.Signer, cfg *officeconfig.Config, actors []*actor.Actor, clock func() time.Time, logger *slog.Logger) *outbox.Reminders {
	byID := map[string]*actor.Actor{}
	for _, a := range actors {
		byID[a.Office().ID] = a
	}
	return &outbox.Reminders{
		Bookings: wp.db, Links: signer, Offices: cfg.Offices, Sender: ob, At: cfg.Messages.ReminderAt,
		Clock: clock, Log: logger,
		Active: func(ctx context.Context, office, id string, slot time.Time) bool {
			a := byID[office]
			if a == nil {
				return false
			}
			active := false
			err := a.Query(ctx, func(s *queue.State) {
				r := s.Reservations[id]
				active = r != nil && r.State == queue.Booked && r.Slot.Equal(slot)
			})
			return err == nil && active
		},
	}
}
