package push

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"

	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/store"
)

// How long a push service keeps a message for a phone that is offline: a
// call is worth nothing after a few minutes, a "soon" a little longer.
var ttl = map[notice.Kind]time.Duration{
	notice.Called:   5 * time.Minute,
	notice.Recalled: 5 * time.Minute,
	notice.Ahead:    20 * time.Minute,
}

// recordSize is the encrypted body's size (RFC 8188 rs). Every message is
// padded to it, so the length does not tell a call from a "soon"; the
// library's default, 4096, would quadruple every push for nothing.
const recordSize = 1024

// work sends the jobs of one queue until ctx ends.
func (s *Service) work(ctx context.Context, jobs <-chan job) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-jobs:
			s.send(ctx, j)
		}
	}
}

// send pushes one message to each of the ticket's browsers; where none
// took it, the SMS notice goes to the outbox if the office allows it.
func (s *Service) send(ctx context.Context, j job) {
	payload, err := json.Marshal(j.msg)
	if err != nil {
		s.cfg.Logger.Error("encoding a push", "err", err)
		return
	}
	delivered := false
	for _, sub := range j.reach.Subscriptions {
		ok, gone := s.post(ctx, j, sub, payload)
		delivered = delivered || ok
		if gone {
			if err := s.cfg.DB.DropPushEndpoint(j.reach.Office, j.reach.Ticket, sub.Endpoint); err != nil {
				s.cfg.Logger.Error("dropping a gone push subscription", "office", j.reach.Office, "ticket", j.reach.Ticket, "err", err)
			}
		}
	}
	if delivered || !j.office.Push.SMSFallback || j.reach.Phone == "" || s.cfg.Notices == nil {
		return
	}
	n := notice.Notice{
		Kind: j.msg.Kind, Office: j.office.ID, Lang: j.reach.Lang, Contact: j.reach.Phone,
		Ticket: j.msg.Number, Counter: j.msg.Counter, Ahead: j.msg.Ahead,
		Links: notice.Links{Ticket: s.cfg.Links.TicketURL(j.office.ID, j.reach.Ticket)},
		// One SMS per ticket for "ahead"; one per event for calls and
		// recalls (a second call after a transfer, each recall).
		Key: string(j.msg.Kind) + "/" + j.office.ID + "/" + j.reach.Ticket,
	}
	if j.seq > 0 {
		n.Key += "/" + strconv.FormatUint(j.seq, 10)
	}
	if err := s.cfg.Notices.Send(ctx, n); err != nil {
		s.cfg.Logger.Error("handing an SMS notice to the outbox", "office", j.office.ID, "ticket", j.reach.Ticket, "err", err)
	}
}

// post sends one push: ok when the push service took it, gone when it
// says the subscription no longer exists (404, 410).
func (s *Service) post(ctx context.Context, j job, sub store.PushSubscription, payload []byte) (ok, gone bool) {
	size := uint32(recordSize)
	if need := len(payload) + 103; need > recordSize {
		size = webpush.MaxRecordSize
	}
	urgency := webpush.UrgencyNormal
	if j.msg.Urgent {
		urgency = webpush.UrgencyHigh
	}
	resp, err := webpush.SendNotificationWithContext(ctx, payload,
		&webpush.Subscription{Endpoint: sub.Endpoint, Keys: webpush.Keys{Auth: sub.Auth, P256dh: sub.P256dh}},
		&webpush.Options{
			HTTPClient: s.cfg.HTTPClient, RecordSize: size, Subscriber: s.cfg.Subscriber,
			Topic: topic(j.reach), TTL: int(ttl[j.msg.Kind] / time.Second), Urgency: urgency,
			VAPIDPublicKey: s.cfg.Keys.Public, VAPIDPrivateKey: s.cfg.Keys.Private,
		})
	if err != nil {
		// The endpoint is the browser's secret address: not in the log.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		s.cfg.Logger.Warn("a push did not reach its push service", "office", j.reach.Office, "ticket", j.reach.Ticket, "err", err)
		return false, false
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return true, false
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return false, true
	}
	s.cfg.Logger.Warn("a push service refused a push", "office", j.reach.Office, "ticket", j.reach.Ticket, "status", resp.StatusCode)
	return false, false
}
