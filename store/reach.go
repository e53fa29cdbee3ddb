package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/numerek/numerek/store/kv"
)

// MaxPushSubscriptions is how many browsers may ask to be told about one
// ticket; a further one replaces the oldest.
const MaxPushSubscriptions = 4

// PushSubscription is one browser's Web Push subscription (the Push API's
// PushSubscription): where to post, and the keys to encrypt for it.
type PushSubscription struct {
	Endpoint string `json:"endpoint"`
	// P256dh is the browser's P-256 public key and Auth its 16-byte
	// secret, both base64url as the browser gives them.
	P256dh string `json:"p256dh"`
	Auth   string `json:"auth"`
}

// TicketReach is how to reach the resident of one ticket when it is
// called: the browsers that subscribed to push and, for SMS, a phone
// number the resident gave. The record ends with the ticket and is purged
// at PurgeAt in any case.
type TicketReach struct {
	Office string `json:"office"`
	Ticket string `json:"ticket"`
	// Lang is the ticket's language: what the messages are written in.
	Lang          string             `json:"lang"`
	Subscriptions []PushSubscription `json:"subscriptions,omitempty"`
	Phone         string             `json:"phone,omitempty"`
	// AheadSent is set once "N people ahead" was sent: it is sent once.
	AheadSent bool      `json:"ahead_sent,omitempty"`
	PurgeAt   time.Time `json:"purge_at"`
}

func reachKey(office, ticket string) []byte { return []byte(office + "/" + ticket) }

// updateReach changes a ticket's record in one transaction; change gets
// an empty record (with the keys set) when there is none, and returns
// false to delete it.
func (w *WebDB) updateReach(office, ticket string, change func(r *TicketReach, found bool) (keep bool)) error {
	return w.db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(bucketTicketReach)
		key := reachKey(office, ticket)
		r := TicketReach{Office: office, Ticket: ticket}
		v := b.Get(key)
		if v != nil {
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("reading how to reach ticket %s: %w", ticket, err)
			}
		}
		if !change(&r, v != nil) {
			if v == nil {
				return nil
			}
			return b.Delete(key)
		}
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return b.Put(key, data)
	})
}

// AddPushSubscription keeps a browser's subscription for a ticket (the
// same endpoint again replaces its keys). lang and purgeAt are set on a
// new record.
func (w *WebDB) AddPushSubscription(office, ticket, lang string, s PushSubscription, purgeAt time.Time) error {
	err := w.updateReach(office, ticket, func(r *TicketReach, found bool) bool {
		if !found {
			r.Lang, r.PurgeAt = lang, purgeAt
		}
		r.Subscriptions = slices.DeleteFunc(r.Subscriptions, func(o PushSubscription) bool { return o.Endpoint == s.Endpoint })
		if len(r.Subscriptions) >= MaxPushSubscriptions {
			r.Subscriptions = r.Subscriptions[1:]
		}
		r.Subscriptions = append(r.Subscriptions, s)
		return true
	})
	if err != nil {
		return fmt.Errorf("storing a push subscription for ticket %s: %w", ticket, err)
	}
	return nil
}

// SetTicketPhone keeps the phone number a resident gave for a ticket's
// SMS.
func (w *WebDB) SetTicketPhone(office, ticket, lang, phone string, purgeAt time.Time) error {
	err := w.updateReach(office, ticket, func(r *TicketReach, found bool) bool {
		if !found {
			r.Lang, r.PurgeAt = lang, purgeAt
		}
		r.Phone = phone
		return true
	})
	if err != nil {
		return fmt.Errorf("storing a phone number for ticket %s: %w", ticket, err)
	}
	return nil
}

// DropPushEndpoint forgets a subscription its push service says is gone.
func (w *WebDB) DropPushEndpoint(office, ticket, endpoint string) error {
	err := w.updateReach(office, ticket, func(r *TicketReach, found bool) bool {
		r.Subscriptions = slices.DeleteFunc(r.Subscriptions, func(o PushSubscription) bool { return o.Endpoint == endpoint })
		return found && (len(r.Subscriptions) > 0 || r.Phone != "")
	})
	if err != nil {
		return fmt.Errorf("dropping a push subscription of ticket %s: %w", ticket, err)
	}
	return nil
}

// MarkAheadSent records that a ticket's "N ahead" went out; false if it
// had already (or the record is gone), so it goes out once.
func (w *WebDB) MarkAheadSent(office, ticket string) (bool, error) {
	first := false
	err := w.updateReach(office, ticket, func(r *TicketReach, found bool) bool {
		first = found && !r.AheadSent
		r.AheadSent = true
		return found
	})
	if err != nil {
		return false, fmt.Errorf("marking ticket %s told: %w", ticket, err)
	}
	return first, nil
}

// DeleteTicketReach forgets how to reach a ticket's resident (the ticket
// ended).
func (w *WebDB) DeleteTicketReach(office, ticket string) error {
	err := w.db.Update(func(tx kv.Tx) error { return tx.Bucket(bucketTicketReach).Delete(reachKey(office, ticket)) })
	if err != nil {
		return fmt.Errorf("deleting how to reach ticket %s: %w", ticket, err)
	}
	return nil
}

// TicketReach returns a ticket's record; ok=false if there is none.
func (w *WebDB) TicketReach(office, ticket string) (TicketReach, bool, error) {
	r, found, err := getJSON[TicketReach](w.db, bucketTicketReach, reachKey(office, ticket))
	if err != nil {
		return TicketReach{}, false, fmt.Errorf("reading how to reach ticket %s: %w", ticket, err)
	}
	return r, found, nil
}

// TicketReaches returns every record of an office.
func (w *WebDB) TicketReaches(office string) ([]TicketReach, error) {
	var out []TicketReach
	prefix := []byte(office + "/")
	err := w.db.View(func(tx kv.Tx) error {
		c := tx.Bucket(bucketTicketReach).Cursor()
		for k, v := c.Seek(prefix); k != nil && len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix); k, v = c.Next() {
			var r TicketReach
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("reading how to reach %s: %w", k, err)
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// PurgeTicketReaches deletes every record whose PurgeAt has passed at now
// (and any unreadable one: it may hold a phone number), returning how
// many went.
func (w *WebDB) PurgeTicketReaches(now time.Time) (int, error) {
	n := 0
	err := w.db.Update(func(tx kv.Tx) error {
		var err error
		n, err = deleteWhere(tx.Bucket(bucketTicketReach), func(_, v []byte) bool {
			var r TicketReach
			return json.Unmarshal(v, &r) != nil || !r.PurgeAt.After(now)
		})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purging how to reach tickets: %w", err)
	}
	return n, nil
}
