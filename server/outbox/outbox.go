// Package outbox delivers notices (server/notice) to residents: e-mail
// over SMTP and SMS through a gateway. Send stores a notice durably in a
// bbolt file of its own and returns; workers deliver it, one per channel,
// retrying with capped exponential backoff until a configured time has
// passed, then marking it failed for the staff to see and retry. A restart
// resumes what was pending. Contacts are personal data: they are never
// logged, errors are scrubbed of them, and a message goes with its contact
// a day or two after delivery, or after the office's retention if it was
// never delivered. The package also composes the messages (each kind in
// the resident's language, with the booking's code, QR and calendar
// entry) and reminds residents of tomorrow's visits.
package outbox

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/numerek/numerek/store/kv"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/server/notice"
)

// State is where a message is in its delivery.
type State string

// A message's states.
const (
	// Pending: stored, waiting for its next attempt.
	Pending State = "pending"
	// Sent: handed to the SMTP server or the SMS gateway.
	Sent State = "sent"
	// Failed: given up on (permanent refusal, or retried too long).
	Failed State = "failed"
	// NoChannel: the contact is of a kind the server cannot reach (a
	// phone number with no SMS gateway configured), kept visible.
	NoChannel State = "no-channel"
)

// Channel is how a message travels.
type Channel string

// The channels.
const (
	Email Channel = "email"
	SMS   Channel = "sms"
	// Hook carries device alerts to an office's own system (a chat, a
	// ticketing tool) as a JSON POST to the contact, an http(s) URL.
	Hook Channel = "webhook"
)

// ChannelOf is the channel a contact is reached by.
func ChannelOf(contact string) Channel {
	if strings.HasPrefix(contact, "https://") || strings.HasPrefix(contact, "http://") {
		return Hook
	}
	if strings.Contains(contact, "@") {
		return Email
	}
	return SMS
}

// Deliverer hands one notice to its channel's server. An error wrapped
// with Permanent is not retried.
type Deliverer interface {
	Deliver(ctx context.Context, n notice.Notice) error
}

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks a delivery error that retrying cannot mend (an address
// the server refuses, a number the gateway calls invalid).
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool { return errors.As(err, new(permanentError)) }

// Options are an outbox's parts and timings.
type Options struct {
	// Path is the outbox's bbolt file, when DB is nil.
	Path string
	// DB keeps the messages instead of a file of the server's own: the
	// database several nodes share. Each node's workers then deliver
	// what any node stored, each message claimed by one of them.
	DB kv.DB
	// Email and SMS deliver each channel; nil means the channel is not
	// configured and its messages are marked NoChannel.
	Email Deliverer
	SMS   Deliverer
	// Webhook delivers device alerts to URLs (AlertHook).
	Webhook Deliverer
	Clock   func() time.Time
	Log     *slog.Logger
	// Retention is how long an office keeps personal data (its bookings'
	// retention); an undelivered message goes that long after its visit.
	Retention func(office string) time.Duration
	// GiveUpAfter: retried this long, a message is marked failed
	// (default 24 h). KeepSent: a delivered message is purged this long
	// after (default 48 h).
	GiveUpAfter time.Duration
	KeepSent    time.Duration
	// FirstRetry is the first wait after a failed attempt (default 30 s),
	// doubled each time up to MaxRetry (default 30 min).
	FirstRetry time.Duration
	MaxRetry   time.Duration
	// AttemptTimeout bounds one delivery (default 60 s).
	AttemptTimeout time.Duration
	// PurgeEvery is how often the worker purges (default 1 h).
	PurgeEvery time.Duration
}

// Outbox stores notices and delivers them: it is the server's
// notice.Sender.
type Outbox struct {
	opts Options
	db   kv.DB
	// file is the bbolt file at Path; nil when the messages are in DB.
	file *bolt.DB
	// wake tells each channel's worker to look again (a new message, a
	// retry asked for); one slot, so a burst wakes it once.
	wake map[Channel]chan struct{}
	stop context.CancelFunc
	done sync.WaitGroup
}

var _ notice.Sender = (*Outbox)(nil)

var (
	bucketMessages = []byte("messages")
	bucketKeys     = []byte("keys")
)

// record is one stored message.
type record struct {
	ID        uint64        `json:"id"`
	Notice    notice.Notice `json:"notice"`
	Channel   Channel       `json:"channel"`
	State     State         `json:"state"`
	Attempts  int           `json:"attempts"`
	LastError string        `json:"last_error,omitempty"`
	Created   time.Time     `json:"created"`
	// Since is when the current run of attempts began (Created, or when
	// the staff asked for a retry): GiveUpAfter counts from it.
	Since   time.Time `json:"since"`
	Next    time.Time `json:"next"`
	Updated time.Time `json:"updated"`
	PurgeAt time.Time `json:"purge_at"`
}

// Open opens (creating if needed) the outbox file and starts its workers;
// Close stops them and closes the file.
func Open(opts Options) (*Outbox, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Retention == nil {
		opts.Retention = func(string) time.Duration { return 30 * 24 * time.Hour }
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.GiveUpAfter, 24*time.Hour)
	def(&opts.KeepSent, 48*time.Hour)
	def(&opts.FirstRetry, 30*time.Second)
	def(&opts.MaxRetry, 30*time.Minute)
	def(&opts.AttemptTimeout, 60*time.Second)
	def(&opts.PurgeEvery, time.Hour)
	db, where := opts.DB, "in the database"
	var file *bolt.DB
	if db == nil {
		f, err := bolt.Open(opts.Path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("opening the outbox %s: %w", opts.Path, err)
		}
		file, db, where = f, kv.Bolt(f), opts.Path
	}
	closeFile := func() {
		if file != nil {
			file.Close()
		}
	}
	err := db.Update(func(tx kv.Tx) error {
		for _, b := range [][]byte{bucketMessages, bucketKeys} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		closeFile()
		return nil, fmt.Errorf("opening the outbox %s: %w", where, err)
	}
	o := &Outbox{opts: opts, db: db, file: file, wake: map[Channel]chan struct{}{
		Email: make(chan struct{}, 1), SMS: make(chan struct{}, 1), Hook: make(chan struct{}, 1),
	}}
	ctx, stop := context.WithCancel(context.Background())
	o.stop = stop
	for ch, d := range map[Channel]Deliverer{Email: opts.Email, SMS: opts.SMS, Hook: opts.Webhook} {
		if d == nil {
			continue
		}
		o.done.Add(1)
		go func() { defer o.done.Done(); o.work(ctx, ch, d) }()
	}
	o.done.Add(1)
	go func() { defer o.done.Done(); o.purgeLoop(ctx) }()
	return o, nil
}

// Close stops the workers (an attempt under way is cancelled and stays
// pending) and closes the file.
func (o *Outbox) Close() error {
	o.stop()
	o.done.Wait()
	if o.file == nil {
		return nil
	}
	return o.file.Close()
}

func keyOf(n notice.Notice) []byte {
	k := n.Key
	if k == "" {
		// Without a key a notice is its own identity.
		data, _ := json.Marshal(n)
		k = string(data)
	}
	// Only a hash is indexed: a key may carry a booking code.
	sum := sha256.Sum256([]byte(k))
	return sum[:]
}

func idKey(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

// Send stores n for delivery and returns; a notice whose Key was sent
// before is not stored again. It never waits for the delivery.
func (o *Outbox) Send(ctx context.Context, n notice.Notice) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !knownKind(n.Kind) {
		return fmt.Errorf("a notice of kind %q: no message says that", n.Kind)
	}
	n.Lang = i18n.Normalize(n.Lang)
	n.Contact = strings.TrimSpace(n.Contact)
	now := o.opts.Clock()
	ch := ChannelOf(n.Contact)
	rec := record{Notice: n, Channel: ch, State: Pending, Created: now, Since: now, Next: now, Updated: now}
	if o.deliverer(ch) == nil || n.Contact == "" {
		rec.State = NoChannel
	}
	rec.PurgeAt = o.purgeAt(rec)
	stored := false
	err := o.db.Update(func(tx kv.Tx) error {
		keys := tx.Bucket(bucketKeys)
		k := keyOf(n)
		if keys.Get(k) != nil {
			return nil
		}
		msgs := tx.Bucket(bucketMessages)
		id, err := msgs.NextSequence()
		if err != nil {
			return err
		}
		rec.ID = id
		data, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if err := msgs.Put(idKey(id), data); err != nil {
			return err
		}
		stored = true
		return keys.Put(k, idKey(id))
	})
	if err != nil {
		return fmt.Errorf("storing a %s message for office %s: %w", n.Kind, n.Office, err)
	}
	if !stored {
		return nil
	}
	if rec.State == NoChannel {
		o.opts.Log.Warn("a message has no channel to go by: it is kept for the staff's list", "message", rec.ID, "kind", n.Kind, "office", n.Office, "channel", ch)
		return nil
	}
	o.poke(ch)
	return nil
}

// Reaches reports whether a message to contact has a channel to go by.
func (o *Outbox) Reaches(contact string) bool {
	return contact != "" && o.deliverer(ChannelOf(contact)) != nil
}

func knownKind(k notice.Kind) bool {
	switch k {
	case notice.ConfirmContact, notice.Booked, notice.Rescheduled, notice.Cancelled, notice.CancelledByOffice, notice.HoursClosed,
		notice.Reminder, notice.Called, notice.Recalled, notice.Ahead, notice.DeviceAlert, notice.DeviceAlertCleared,
		notice.LockerReady, notice.LockerReminder, notice.LockerSecondFactor, notice.LockerExpired:
		return true
	}
	return false
}

func (o *Outbox) deliverer(ch Channel) Deliverer {
	switch ch {
	case Email:
		return o.opts.Email
	case Hook:
		return o.opts.Webhook
	}
	return o.opts.SMS
}

func (o *Outbox) poke(ch Channel) {
	select {
	case o.wake[ch] <- struct{}{}:
	default:
	}
}

// purgeAt is when a record goes: KeepSent after delivery, else the
// office's retention after the visit (or after the last run of attempts
// began), but never before it has been retried and shown for a while.
func (o *Outbox) purgeAt(r record) time.Time {
	if r.State == Sent {
		return r.Updated.Add(o.opts.KeepSent)
	}
	from := r.Since
	if r.Notice.Slot.After(from) {
		from = r.Notice.Slot
	}
	keep := max(o.opts.Retention(r.Notice.Office), o.opts.GiveUpAfter+o.opts.KeepSent)
	return from.Add(keep)
}

// work delivers one channel's due messages, oldest first, and sleeps
// until the next is due or it is woken.
func (o *Outbox) work(ctx context.Context, ch Channel, d Deliverer) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		next, err := o.deliverDue(ctx, ch, d)
		if err != nil && ctx.Err() == nil {
			o.opts.Log.Error("reading the outbox", "channel", ch, "err", err)
			next = o.opts.Clock().Add(o.opts.FirstRetry)
		}
		wait := time.Hour
		if o.file == nil {
			// Another node may store a message and die before its
			// worker delivers it: look now and then.
			wait = time.Minute
		}
		if !next.IsZero() {
			wait = min(wait, max(0, next.Sub(o.opts.Clock())))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-o.wake[ch]:
		case <-timer.C:
		}
	}
}

// deliverDue attempts every due message of ch and returns when the next
// pending one is due (zero: none).
func (o *Outbox) deliverDue(ctx context.Context, ch Channel, d Deliverer) (time.Time, error) {
	for ctx.Err() == nil {
		due, next, err := o.due(ch)
		if err != nil {
			return time.Time{}, err
		}
		if len(due) == 0 {
			return next, nil
		}
		for _, r := range due {
			if ctx.Err() != nil {
				break
			}
			claimed, err := o.claim(&r)
			if err != nil {
				return time.Time{}, err
			}
			if claimed {
				o.attempt(ctx, r, d)
			}
		}
	}
	return time.Time{}, nil
}

// due lists ch's pending messages due now, and the earliest time one of
// the others is due.
func (o *Outbox) due(ch Channel) (due []record, next time.Time, err error) {
	now := o.opts.Clock()
	err = o.db.View(func(tx kv.Tx) error {
		return tx.Bucket(bucketMessages).ForEach(func(_, v []byte) error {
			var r record
			if json.Unmarshal(v, &r) != nil || r.State != Pending || r.Channel != ch {
				return nil
			}
			if !r.Next.After(now) {
				due = append(due, r)
			} else if next.IsZero() || r.Next.Before(next) {
				next = r.Next
			}
			return nil
		})
	})
	return due, next, err
}

// claimMargin is how long past its attempt's timeout a claimed message
// waits before another worker may take it: its claimer died.
const claimMargin = 30 * time.Second

// claim takes r for one attempt if it is still pending and due: its Next
// moves past the attempt's end, so no other worker (another node's, on a
// shared database) delivers it meanwhile. r is updated to what is
// stored; false if another worker has it or it is gone.
func (o *Outbox) claim(r *record) (bool, error) {
	now := o.opts.Clock()
	claimed := false
	err := o.db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(bucketMessages)
		v := b.Get(idKey(r.ID))
		var cur record
		if v == nil || json.Unmarshal(v, &cur) != nil || cur.State != Pending || cur.Next.After(now) {
			return nil
		}
		cur.Next = now.Add(o.opts.AttemptTimeout + claimMargin)
		data, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		*r, claimed = cur, true
		return b.Put(idKey(r.ID), data)
	})
	if err != nil {
		return false, fmt.Errorf("claiming message %d: %w", r.ID, err)
	}
	return claimed, nil
}

// attempt delivers r, claimed, once and records what came of it.
func (o *Outbox) attempt(ctx context.Context, r record, d Deliverer) {
	actx, cancel := context.WithTimeout(ctx, o.opts.AttemptTimeout)
	err := d.Deliver(actx, r.Notice)
	cancel()
	if err != nil && ctx.Err() != nil {
		// Shutting down: the message stays pending, due at once for the
		// next start or another node.
		r.Next = o.opts.Clock()
		if err := o.put(r); err != nil {
			o.opts.Log.Error("giving a message back on shutdown", "message", r.ID, "err", err)
		}
		return
	}
	now := o.opts.Clock()
	r.Attempts++
	r.Updated = now
	log := o.opts.Log.With("message", r.ID, "kind", r.Notice.Kind, "office", r.Notice.Office, "channel", r.Channel, "attempts", r.Attempts)
	switch {
	case err == nil:
		r.State, r.LastError = Sent, ""
		log.Info("message delivered")
	default:
		r.LastError = scrub(err.Error(), r.Notice.Contact, r.Notice.Name)
		wait := backoff(o.opts.FirstRetry, o.opts.MaxRetry, r.Attempts)
		switch {
		case IsPermanent(err):
			r.State = Failed
			log.Warn("message refused: not retried", "err", r.LastError)
		case now.Add(wait).Sub(r.Since) > o.opts.GiveUpAfter:
			r.State = Failed
			log.Warn("message given up after retrying", "err", r.LastError)
		default:
			r.Next = now.Add(wait)
			log.Info("message not delivered: will retry", "err", r.LastError, "in", wait.Round(time.Second))
		}
	}
	r.PurgeAt = o.purgeAt(r)
	if err := o.put(r); err != nil {
		log.Error("recording a delivery attempt", "err", err)
	}
}

// backoff is the wait after the n-th failed attempt: first, doubled each
// time, at most limit.
func backoff(first, limit time.Duration, n int) time.Duration {
	f := float64(first) * math.Pow(2, float64(n-1))
	if f > float64(limit) {
		return limit
	}
	return time.Duration(f)
}

// put stores r over its earlier self, unless it was purged meanwhile.
func (o *Outbox) put(r record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return o.db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(bucketMessages)
		if b.Get(idKey(r.ID)) == nil {
			return nil
		}
		return b.Put(idKey(r.ID), data)
	})
}

// Entry is one message as the staff see it: no name, the contact masked.
type Entry struct {
	ID        uint64
	Office    string
	Kind      notice.Kind
	Channel   Channel
	State     State
	Attempts  int
	LastError string
	Contact   string
	Created   time.Time
	Updated   time.Time
	Next      time.Time
}

// Recent lists the newest messages of the offices sees accepts, newest
// first, at most limit.
func (o *Outbox) Recent(limit int, sees func(office string) bool) ([]Entry, error) {
	var out []Entry
	err := o.db.View(func(tx kv.Tx) error {
		c := tx.Bucket(bucketMessages).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var r record
			if json.Unmarshal(v, &r) != nil || !sees(r.Notice.Office) {
				continue
			}
			out = append(out, Entry{
				ID: r.ID, Office: r.Notice.Office, Kind: r.Notice.Kind, Channel: r.Channel, State: r.State,
				Attempts: r.Attempts, LastError: r.LastError, Contact: MaskContact(r.Notice.Contact),
				Created: r.Created, Updated: r.Updated, Next: r.Next,
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the outbox: %w", err)
	}
	return out, nil
}

// ErrNotRetryable means the message is gone, or is not failed.
var ErrNotRetryable = errors.New("no failed message has this id")

// Retry puts a failed message back to be attempted now, with a new
// GiveUpAfter from now, if sees accepts its office.
func (o *Outbox) Retry(id uint64, sees func(office string) bool) error {
	var ch Channel
	err := o.db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(bucketMessages)
		v := b.Get(idKey(id))
		var r record
		if v == nil || json.Unmarshal(v, &r) != nil || r.State != Failed || !sees(r.Notice.Office) {
			return ErrNotRetryable
		}
		now := o.opts.Clock()
		r.State, r.Since, r.Next, r.Updated = Pending, now, now, now
		r.PurgeAt = o.purgeAt(r)
		ch = r.Channel
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return b.Put(idKey(id), data)
	})
	if err != nil {
		return err
	}
	o.opts.Log.Info("message retry asked for", "message", id)
	o.poke(ch)
	return nil
}

// Purge deletes messages (with their contacts) whose time has come, and
// says how many went. Their keys go too: a key is only a hash.
func (o *Outbox) Purge() (int, error) {
	now := o.opts.Clock()
	n := 0
	err := o.db.Update(func(tx kv.Tx) error {
		msgs, keys := tx.Bucket(bucketMessages), tx.Bucket(bucketKeys)
		var old [][]byte
		var oldKeys [][]byte
		err := msgs.ForEach(func(k, v []byte) error {
			var r record
			if err := json.Unmarshal(v, &r); err != nil || !r.PurgeAt.After(now) {
				old = append(old, append([]byte(nil), k...))
				if err == nil {
					oldKeys = append(oldKeys, keyOf(r.Notice))
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := msgs.Delete(k); err != nil {
				return err
			}
		}
		for _, k := range oldKeys {
			if err := keys.Delete(k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purging the outbox: %w", err)
	}
	return n, nil
}

func (o *Outbox) purgeLoop(ctx context.Context) {
	t := time.NewTicker(o.opts.PurgeEvery)
	defer t.Stop()
	for {
		if n, err := o.Purge(); err != nil {
			o.opts.Log.Error("purging the outbox", "err", err)
		} else if n > 0 {
			o.opts.Log.Info("purged old messages with their contacts", "messages", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tally is one group of messages counted by Counts.
type Tally struct {
	Channel Channel
	State   State
}

// Counts counts the stored messages by channel and state (sent messages
// are kept for KeepSent, failed ones until the office's retention
// purges them), for metrics.
func (o *Outbox) Counts() (map[Tally]int, error) {
	out := map[Tally]int{}
	err := o.db.View(func(tx kv.Tx) error {
		return tx.Bucket(bucketMessages).ForEach(func(_, v []byte) error {
			var r struct {
				Channel Channel `json:"channel"`
				State   State   `json:"state"`
			}
			if json.Unmarshal(v, &r) == nil {
				out[Tally{r.Channel, r.State}]++
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("counting the outbox's messages: %w", err)
	}
	return out, nil
}
