// Package push tells the resident of a phone ticket that their turn has
// come, on a phone that may be locked with the e-ticket page closed: Web
// Push (RFC 8030), the message encrypted for the browser (RFC 8291) and
// the server identified by its VAPID key (RFC 8292). Where no push
// reached the resident and the office allows it, an SMS notice goes to
// the message outbox instead (notice.Sender).
//
// One watcher per office follows the office's events (called, recalled,
// and "N people ahead" once per ticket); sending is done by a few workers
// off the office's path, each ticket always on the same worker so its
// messages keep their order.
package push

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash/fnv"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/internal/periodic"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/store"
)

// Config is what the pusher needs.
type Config struct {
	DB   *store.WebDB
	Keys Keys
	// Subscriber is the contact push services may use about the server's
	// pushes (the VAPID "sub"): an e-mail address (with or without
	// mailto:) or an https URL.
	Subscriber string
	Links      *links.Signer
	Catalog    *i18n.Catalog
	Clock      func() time.Time
	Logger     *slog.Logger
	// Notices takes SMS notices where no push reached a resident; nil
	// sends none.
	Notices notice.Sender
	// HTTPClient posts to push services; nil is a client with a 15 s
	// timeout.
	HTTPClient *http.Client
	// Workers is how many pushes go out at once; 0 is 4.
	Workers int
	// PushHosts are the push services the server posts to: a
	// subscription's endpoint must be on one of these hosts or under
	// them (a resident's page cannot make the server post elsewhere);
	// empty is DefaultPushHosts.
	PushHosts []string
}

// DefaultPushHosts are the browsers' push services: Chrome and Edge
// (Firebase Cloud Messaging), Firefox (Mozilla's autopush), Safari on
// macOS and iOS (Apple), and Windows' notification service.
var DefaultPushHosts = []string{"fcm.googleapis.com", "push.services.mozilla.com", "push.apple.com", "notify.windows.com"}

// ErrPushHost means a subscription's endpoint is not at a known push
// service.
var ErrPushHost = errors.New("push subscription: the endpoint is not at a push service this server posts to")

// Service watches offices and sends their residents' pushes.
type Service struct {
	cfg  Config
	jobs []chan job
}

// job is one moment of one ticket to tell its resident.
type job struct {
	office *queue.Office
	reach  store.TicketReach
	msg    Message
	// seq is the event's, for calls and recalls: each its own message.
	seq uint64
}

// queueLength is how many pushes a worker holds before a watcher waits.
const queueLength = 256

// New makes the pusher; Run starts it.
func New(cfg Config) *Service {
	if cfg.Catalog == nil {
		cfg.Catalog = i18n.Messages()
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	// webpush-go puts mailto: before anything that is not an https URL.
	cfg.Subscriber = strings.TrimPrefix(cfg.Subscriber, "mailto:")
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if len(cfg.PushHosts) == 0 {
		cfg.PushHosts = DefaultPushHosts
	}
	s := &Service{cfg: cfg}
	for range cfg.Workers {
		s.jobs = append(s.jobs, make(chan job, queueLength))
	}
	return s
}

// PublicKey is the VAPID public key pages subscribe with.
func (s *Service) PublicKey() string { return s.cfg.Keys.Public }

// Subscribe keeps a browser's subscription for a ticket of office o,
// written in lang (the ticket's language).
func (s *Service) Subscribe(o *queue.Office, ticket, lang string, sub store.PushSubscription) error {
	if !s.knownHost(sub.Endpoint) {
		return ErrPushHost
	}
	return s.cfg.DB.AddPushSubscription(o.ID, ticket, lang, sub, PurgeAt(o, s.cfg.Clock()))
}

// knownHost says whether endpoint is at one of the push services.
func (s *Service) knownHost(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host := u.Hostname()
	for _, h := range s.cfg.PushHosts {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}

// PurgeAt is when what reaches a ticket's resident is purged at the
// latest, for a record made at now: after the office's retention of
// personal data, and never later than a day (a ticket lives a day).
func PurgeAt(o *queue.Office, now time.Time) time.Time {
	keep := o.Booking.Retention
	if keep <= 0 || keep > 24*time.Hour {
		keep = 24 * time.Hour
	}
	return now.Add(keep)
}

// Run watches every office and sends until ctx ends, purging records past
// their time every purgeEvery.
func (s *Service) Run(ctx context.Context, offices []*actor.Actor, purgeEvery time.Duration) {
	done := make(chan struct{})
	for _, c := range s.jobs {
		go func() { defer func() { done <- struct{}{} }(); s.work(ctx, c) }()
	}
	for _, a := range offices {
		go func() { defer func() { done <- struct{}{} }(); s.watch(ctx, a) }()
	}
	s.purgeLoop(ctx, purgeEvery)
	for range len(s.jobs) + len(offices) {
		<-done
	}
}

func (s *Service) purgeLoop(ctx context.Context, every time.Duration) {
	periodic.Run(ctx, every, func() {
		if n, err := s.cfg.DB.PurgeTicketReaches(s.cfg.Clock()); err != nil {
			s.cfg.Logger.Error("purging push subscriptions and phone numbers", "err", err)
		} else if n > 0 {
			s.cfg.Logger.Info("purged push subscriptions and phone numbers of past tickets", "tickets", n)
		}
	})
}

// watch follows one office's events until ctx ends.
func (s *Service) watch(ctx context.Context, a *actor.Actor) {
	a.Hub().Follow(ctx, func(events []queue.Event) { s.react(ctx, a, events) }, func() {
		// Dropped for falling behind (thousands of events): what was
		// missed is missed, the next calls are not.
		s.cfg.Logger.Warn("the pusher fell behind an office's events", "office", a.Office().ID)
	})
}

// moment is a call or recall seen in the events.
type moment struct {
	kind    notice.Kind
	ticket  string
	counter int
	seq     uint64
}

// react turns a batch of an office's events into pushes, and forgets
// tickets that ended.
func (s *Service) react(ctx context.Context, a *actor.Actor, events []queue.Event) {
	o := a.Office()
	var moments []moment
	for _, e := range events {
		switch b := e.Body.(type) {
		case queue.TicketCalled:
			moments = append(moments, moment{notice.Called, b.Ticket, b.Counter, e.Seq})
		case queue.TicketRecalled:
			moments = append(moments, moment{notice.Recalled, b.Ticket, b.Counter, e.Seq})
		case queue.TicketFinished:
			s.forget(o, b.Ticket)
		case queue.TicketNoShow:
			s.forget(o, b.Ticket)
		case queue.TicketCancelled:
			s.forget(o, b.Ticket)
		case queue.RequestWithdrawn:
			if b.Ticket != "" {
				s.forget(o, b.Ticket)
			}
		}
	}
	reaches, err := s.cfg.DB.TicketReaches(o.ID)
	if err != nil {
		s.cfg.Logger.Error("reading push subscriptions", "office", o.ID, "err", err)
		return
	}
	if len(reaches) == 0 {
		return
	}
	byTicket := map[string]store.TicketReach{}
	for _, r := range reaches {
		byTicket[r.Ticket] = r
	}
	v, err := a.View(ctx)
	if err != nil {
		return
	}
	for _, m := range moments {
		r, ok := byTicket[m.ticket]
		if !ok {
			continue
		}
		number := numberOf(ctx, a, &v, m.ticket, s.cfg.Clock())
		s.enqueue(ctx, job{office: o, reach: r, seq: m.seq,
			msg: compose(s.cfg.Catalog, m.kind, r.Lang, number, m.counter, 0, s.cfg.Links.TicketPath(o.ID, m.ticket))})
	}
	if n := o.Push.NotifyWhenAhead; n > 0 {
		for _, t := range v.Waiting {
			r, ok := byTicket[t.ID]
			if !ok || r.AheadSent || t.Ahead > n {
				continue
			}
			first, err := s.cfg.DB.MarkAheadSent(o.ID, t.ID)
			if err != nil {
				s.cfg.Logger.Error("marking a ticket told", "office", o.ID, "ticket", t.ID, "err", err)
				continue
			}
			if first {
				s.enqueue(ctx, job{office: o, reach: r,
					msg: compose(s.cfg.Catalog, notice.Ahead, r.Lang, t.Number, 0, t.Ahead, s.cfg.Links.TicketPath(o.ID, t.ID))})
			}
		}
	}
}

// numberOf finds a ticket's number: in the shared view when it is at a
// counter, else from the office.
func numberOf(ctx context.Context, a *actor.Actor, v *queue.View, id string, now time.Time) string {
	for _, c := range v.Counters {
		if c.Current != nil && c.Current.ID == id {
			return c.Current.Number
		}
	}
	var tv queue.TicketView
	if err := a.Query(ctx, func(s *queue.State) { tv, _ = s.TicketView(id, now) }); err != nil {
		return ""
	}
	return tv.Number
}

func (s *Service) forget(o *queue.Office, ticket string) {
	if err := s.cfg.DB.DeleteTicketReach(o.ID, ticket); err != nil {
		s.cfg.Logger.Error("forgetting how to reach an ended ticket", "office", o.ID, "ticket", ticket, "err", err)
	}
}

// enqueue hands a message to the ticket's worker.
func (s *Service) enqueue(ctx context.Context, j job) {
	h := fnv.New32a()
	h.Write([]byte(j.reach.Office + "/" + j.reach.Ticket))
	select {
	case s.jobs[int(h.Sum32()%uint32(len(s.jobs)))] <- j:
	case <-ctx.Done():
	}
}

// topic names a ticket's pushes for the push service, so a message still
// waiting there (the phone offline) is replaced by the next one: at most
// 32 base64url characters (RFC 8030 5.4), revealing nothing of the ticket.
func topic(r store.TicketReach) string {
	sum := sha256.Sum256([]byte(r.Office + "/" + r.Ticket))
	return base64.RawURLEncoding.EncodeToString(sum[:24])
}

// SetPhone keeps the phone number a resident gave for a ticket's SMS.
func (s *Service) SetPhone(o *queue.Office, ticket, lang, phone string) error {
	return s.cfg.DB.SetTicketPhone(o.ID, ticket, lang, phone, PurgeAt(o, s.cfg.Clock()))
}
