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
	"github.com/numerek/numerek/server/fleet"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/server/lockers"
	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/server/outbox"
	"github.com/numerek/numerek/store"
	"github.com/numerek/numerek/store/pgstore"
)

// outboxFile is the message outbox's bbolt file in the data directory.
const outboxFile = "outbox.db"

// openMessages opens the message outbox when [messages] or alerts about
// devices ([devices]) are configured (nil, nil when neither is). The
// outbox is the server's notice.Sender: whatever has something to tell a
// resident (the booking desk, the e-ticket) or an office's admins (the
// devices' health) hands it notices, and it delivers them.
// With shared (nil: none), the messages are kept in the database the
// nodes share, and each node's workers deliver them.
func openMessages(dataDir, publicURL string, shared *pgstore.DB, cfg *officeconfig.Config, clock func() time.Time, logger *slog.Logger) (*outbox.Outbox, error) {
	m := cfg.Messages
	if !m.Enabled() && !cfg.Devices.Any() {
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
		Webhook: outbox.NewAlertHook(c, &http.Client{Timeout: 30 * time.Second}),
		Retention: func(office string) time.Duration {
			if o := offices[office]; o != nil {
				return o.Booking.Retention
			}
			return 0
		},
	}
	if shared != nil {
		opts.DB = shared.KV(outboxSpace)
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

// fleetFile keeps the devices' last reports and fault history.
const fleetFile = "fleet.db"

// bundlesDir is the folder of the uploaded update bundles, in the data
// folder.
const bundlesDir = "bundles"

// fleetTimes are the fleet's timings when a test shortens them
// (--test-fleet-every); the zero value keeps the office's.
type fleetTimes struct {
	every, offlineAfter, tick, debounce time.Duration
}

// testFleetTimes scales the fleet's timings to a report interval of
// every: Offline after three intervals (an office's is two and a grace
// of 15 s, too little grace for a loaded test machine at a second's
// interval), faults told after two, silence told as soon as it is
// Offline, and sweeps four times an interval so that none of it waits
// for the 10 s tick.
func testFleetTimes(every time.Duration) fleetTimes {
	if every <= 0 {
		return fleetTimes{}
	}
	return fleetTimes{every: every, offlineAfter: 3 * every, tick: every / 4, debounce: 2 * every}
}

// openHealth opens the devices' health record: their reports in
// fleet.db (or the shared database), their streams in hub, alerts through sender (nil: none) to
// where [devices] says, in each office's first language; times are the
// office's unless a test shortens them.
func openHealth(dataDir string, shared *pgstore.DB, cfg *officeconfig.Config, hub *fleet.Hub, sender notice.Sender, clock func() time.Time, times fleetTimes, logger *slog.Logger) (*fleet.Health, *store.FleetDB, error) {
	var db *store.FleetDB
	var err error
	if shared != nil {
		db, err = store.NewFleetDB(shared.KV(fleetSpace))
	} else {
		db, err = store.OpenFleetDB(filepath.Join(dataDir, fleetFile))
	}
	if err != nil {
		return nil, nil, err
	}
	langs := map[string]string{}
	for _, o := range cfg.Offices {
		langs[o.ID] = o.DefaultLanguage()
	}
	h, err := fleet.NewHealth(fleet.HealthOptions{
		Clock: clock, Presence: hub.Presence, Store: db, Log: logger,
		Every: times.every, OfflineAfter: times.offlineAfter, Tick: times.tick,
		Alerts: fleet.Alerts{Sender: sender, Debounce: times.debounce, Route: func(office string) fleet.AlertRoute {
			a := cfg.Devices.For(office)
			offlineAfter := a.OfflineAfter
			if times.offlineAfter > 0 {
				offlineAfter = times.offlineAfter
			}
			return fleet.AlertRoute{To: a.Contacts(), Lang: langs[office], OfflineAfter: offlineAfter}
		}},
	})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return h, db, nil
}

// openLockers makes the lockers' notices: residents told through ob when
// [messages] is on, the office's admins alerted of documents not
// collected where [devices] sends the devices' alerts, in the office's
// first language.
func openLockers(wp *webParts, ob *outbox.Outbox, cfg *officeconfig.Config, actors []*actor.Actor, clock func() time.Time, logger *slog.Logger) *lockers.Service {
	lc := lockers.Config{DB: wp.db, Clock: clock, Logger: logger}
	if ob != nil {
		lc.Alerts = ob
		if cfg.Messages.Enabled() {
			lc.Notices = ob
		}
	}
	langs := map[string]string{}
	for _, o := range cfg.Offices {
		langs[o.ID] = o.DefaultLanguage()
	}
	lc.Staff = func(office string) lockers.Staff {
		return lockers.Staff{To: cfg.Devices.For(office).Contacts(), Lang: langs[office]}
	}
	return lockers.New(lc, actors)
}
